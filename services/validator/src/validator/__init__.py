"""wellstream validator service."""
