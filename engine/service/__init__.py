"""The thread-based engine and the services the CLI and kiosk call."""
