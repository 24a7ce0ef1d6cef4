"""Parley's local HTTP server: a thin FastAPI shell over ``core`` (built in the server issue; nothing here yet)."""
