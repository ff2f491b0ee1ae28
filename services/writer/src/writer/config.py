"""Writer settings: the shared ones plus batching, fetch sizes and retry budget."""

from pydantic import Field, ValidationInfo, field_validator

from runtime.settings import BatchRecords, ConsumerSettings, Port


class WriterSettings(ConsumerSettings):
    port: Port = 8003
    migrate_on_start: bool = Field(
        default=True, description="Apply pending ClickHouse migrations when the app starts."
    )
    clickhouse_cluster: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$",
        description=(
            "A replicated ClickHouse cluster (`remote_servers` name): migrations create"
            " `ReplicatedReplacingMergeTree` tables `ON CLUSTER`; unset: one node."
        ),
    )
    batch_max_records: BatchRecords = Field(
        default=20_000,
        description="Most records handed to one insert round (over all partitions).",
    )
    insert_chunk_records: int = Field(
        default=50_000,
        ge=100,
        description=(
            "Most rows in one insert. Inserts are cut where the offset crosses a multiple"
            " of this, so a replay cut into other batches repeats most of them exactly"
            " (same deduplication token, nothing stored twice)."
        ),
    )
    cache_bump_timeout_seconds: float = Field(
        default=1.0,
        gt=0,
        description=(
            "Longest wait for Redis when bumping the generations of inserted wells and"
            " fields; past it the bump is skipped (the gateway cache TTL bounds staleness)."
        ),
    )
    batch_max_wait_ms: int = Field(
        default=500,
        ge=1,
        description="Longest the broker holds a fetch to let a batch fill up (time trigger).",
    )
    batch_min_bytes: int = Field(
        default=256 * 1024,
        ge=1,
        description="Bytes a fetch waits for before the wait above runs out (size trigger).",
    )
    partition_fetch_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=64 * 1024,
        description=(
            "Most bytes buffered per partition. Bounds memory: nothing more is fetched for"
            " a partition while its records wait for a slow insert."
        ),
    )
    session_timeout_ms: int = Field(
        default=10_000,
        ge=1_000,
        description="A consumer silent this long is dropped and its partitions reassigned.",
    )
    insert_retry_seconds: float = Field(
        default=60.0,
        gt=0,
        description=(
            "How long a transient ClickHouse failure is retried before the batch is"
            " rewound and redelivered; must stay well inside max_poll_interval_ms."
        ),
    )

    @field_validator("insert_retry_seconds")
    @classmethod
    def _retries_fit_in_poll_interval(cls, value: float, info: ValidationInfo) -> float:
        poll_ms = info.data.get("max_poll_interval_ms")
        if poll_ms is not None and value * 1000 * 2 > poll_ms:
            raise ValueError(
                "must be at most half of max_poll_interval_ms, or a slow insert gets the"
                " writer thrown out of its consumer group"
            )
        return value
