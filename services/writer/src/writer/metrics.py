"""The writer's Prometheus metrics (process-wide singletons, on the default registry)."""

from prometheus_client import Counter, Gauge, Histogram

ROWS_INSERTED = Counter(
    "wellstream_writer_rows_inserted_total", "Rows sent to ClickHouse inserts", ["table"]
)
BATCH_RECORDS = Histogram(
    "wellstream_writer_batch_records",
    "Messages per consumed batch",
    ["topic"],
    buckets=(1, 10, 100, 500, 1_000, 5_000, 10_000, 20_000, 50_000, 100_000),
)
BATCH_SECONDS = Histogram(
    "wellstream_writer_batch_seconds",
    "Time to store and commit one consumed batch (its inserts and dead letters)",
    ["topic"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
INSERT_SECONDS = Histogram(
    "wellstream_writer_insert_seconds",
    "Latency of one insert, retries included",
    ["table"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
INSERT_RETRIES = Counter(
    "wellstream_writer_clickhouse_retries_total", "ClickHouse calls retried after a failure"
)
INSERT_SPLITS = Counter(
    "wellstream_writer_insert_splits_total", "Rejected inserts split to isolate a bad row"
)
DEAD_LETTERS = Counter(
    "wellstream_writer_dead_letters_total",
    "Records the writer sent to the dead-letter topic",
    ["code"],
)
BATCH_FAILURES = Counter(
    "wellstream_writer_batch_failures_total", "Batches rewound for redelivery", ["topic"]
)
CONSUMER_LAG = Gauge(
    "wellstream_writer_consumer_lag",
    "Messages between the consumer position and the partition's end",
    ["topic", "partition"],
)
REBALANCES = Counter(
    "wellstream_writer_rebalances_total", "Partitions assigned or revoked", ["event"]
)
CACHE_BUMP_FAILURES = Counter(
    "wellstream_writer_cache_bump_failures_total",
    "Generation bumps that did not reach Redis (the read cache then expires by TTL)",
)
CACHE_BUMP_PENDING = Gauge(
    "wellstream_writer_cache_bump_pending",
    "Wells and fields whose generation bump waits for Redis to come back",
)
