"""Gateway metrics (module-level singletons, registered once per process)."""

from prometheus_client import Counter

CACHE = Counter("wellstream_gateway_cache_total", "Cached reads by outcome", ["outcome"])
EXPORTED_ROWS = Counter("wellstream_gateway_exported_rows_total", "Rows streamed by exports")
REPLAYED = Counter("wellstream_gateway_replayed_total", "Dead letters republished to raw")
