"""wellstream writer service."""
