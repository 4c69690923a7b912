"""practicemail's engine: rules (core), edges (adapters), threads (service), admin."""

__version__ = "0.1.0"
