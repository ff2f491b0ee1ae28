"""The ingestor's Prometheus metrics (module-level: one registration per process)."""

from prometheus_client import Counter

RECORDS = Counter(
    "wellstream_ingestor_records_total",
    "Records taken in, by outcome (accepted and rejected ones were acknowledged by Kafka)",
    ["outcome"],
)
