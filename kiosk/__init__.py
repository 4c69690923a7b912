"""The reception kiosk (PyQt6). The only place Qt is imported."""
