"""wellstream ingestor service."""
