"""wellstream gateway service."""
