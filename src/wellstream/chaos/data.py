"""Synthetic canonical records, a fast publisher, committed offsets, and exact
accounting of what ClickHouse holds for the wells of one prefix."""

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupCoordinatorNotAvailableError

from contracts import CanonicalRecord, topics
from contracts.records import canonical_record, encode
from runtime import kafka
from runtime.clickhouse import ClickHouse
from runtime.settings import Settings

WELLS: Final = 50
_EPOCH: Final = date(2000, 1, 1)
_ACCEPTED: Final = datetime(2024, 1, 1, tzinfo=UTC)


def canonical(i: int, prefix: str, version: int = 1) -> CanonicalRecord:
    """The ``i``-th synthetic daily record of wells ``{prefix}-0 .. {prefix}-49``."""
    well = f"{prefix}-{i % WELLS}"
    day = _EPOCH + timedelta(days=i // WELLS)
    return canonical_record(
        record_id=f"{prefix}:{i}",
        version=version,
        well_code=well,
        well_code_raw=well,
        field_code="F1",
        period=day.isoformat(),
        period_start=day,
        period_type="day",
        days_in_period=1,
        days_on_production=1.0,
        oil_bbl=100.0 + i % 7,
        gas_mcf=50.0,
        water_bbl=10.0,
        boe=100.0 + i % 7 + 50.0 / 6,
        data_source="chaos",
        revision=version,
        source_topic="production.raw.v1",
        source_offset=i,
        ingested_at=_ACCEPTED,
        normalized_at=_ACCEPTED,
    )


def _connection(bootstrap: str) -> dict[str, Any]:
    """Kafka connection arguments for ``bootstrap``, with the transport (TLS, SASL) the
    environment names, as the services of the run read it."""
    return kafka.connection(Settings(kafka_bootstrap_servers=bootstrap))


def _producer(bootstrap: str) -> dict[str, Any]:
    return kafka.producer_config(Settings(kafka_bootstrap_servers=bootstrap))


def body(i: int, prefix: str, version: int = 1) -> bytes:
    """The ``i``-th synthetic record as the validator publishes it (JSON bytes)."""
    return encode(canonical(i, prefix, version))


async def publish(bootstrap: str, topic: str, count: int, prefix: str, version: int = 1) -> None:
    """Publish ``count`` records (keyed by well) and wait until every one is acknowledged."""
    # The services' settings, with a longer linger for fuller batches and aiokafka's
    # default request timeout.
    config = _producer(bootstrap) | {"linger_ms": 20, "request_timeout_ms": 40_000}
    producer = AIOKafkaProducer(**config)
    await producer.start()
    try:
        pending = []
        for i in range(count):
            record = canonical(i, prefix, version)
            headers = [(topics.HEADER_SCHEMA_VERSION, b"1")]
            pending.append(
                await producer.send(
                    topic, encode(record), key=record.well_code.encode(), headers=headers
                )
            )
            if len(pending) >= 10_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def committed(bootstrap: str, group: str) -> int:
    """Sum of the offsets ``group`` committed (over all its partitions)."""
    admin = AIOKafkaAdminClient(**_connection(bootstrap))
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(meta.offset for meta in offsets.values() if meta.offset > 0)


async def wait_committed(
    bootstrap: str, group: str, target: int, within: float, poll: float = 0.25
) -> int:
    """Wait until ``group`` committed ``target`` offsets; return what it reached."""
    deadline = asyncio.get_running_loop().time() + within
    reached = 0
    while asyncio.get_running_loop().time() < deadline:
        # A fresh broker creates its offsets topic on a group's first request.
        with contextlib.suppress(GroupCoordinatorNotAvailableError):
            reached = await committed(bootstrap, group)
        if reached >= target:
            break
        await asyncio.sleep(poll)
    return reached


@dataclass(frozen=True)
class Counts:
    """What a reader sees for the wells of one prefix."""

    current: int
    """Current records: one per record_id, the highest version (argMax)."""
    versions: int
    """Distinct (record_id, version) in the history: what history reads return."""
    history_rows: int
    """Physical history rows (duplicates of one version collapse in reads and merges)."""
    per_well: dict[str, int]
    oil_total: float


COUNTS_SQL: Final = """
SELECT
    (SELECT count() FROM (SELECT record_id FROM production
        WHERE startsWith(well_code, {p:String}) GROUP BY record_id)),
    (SELECT count() FROM (SELECT record_id, version FROM production_history
        WHERE startsWith(well_code, {p:String}) GROUP BY record_id, version)),
    (SELECT count() FROM production_history WHERE startsWith(well_code, {p:String}))
"""
PER_WELL_SQL: Final = """
SELECT well, count(), sum(oil) FROM (
    SELECT record_id, argMax(well_code, version) AS well, argMax(oil_bbl, version) AS oil
    FROM production WHERE startsWith(well_code, {p:String}) GROUP BY record_id
) GROUP BY well
"""


async def counts(ch: ClickHouse, prefix: str) -> Counts:
    params = {"p": f"{prefix}-"}
    ((current, versions, rows),) = await ch.rows(COUNTS_SQL, parameters=params)
    wells = await ch.rows(PER_WELL_SQL, parameters=params)
    return Counts(
        current=int(current),
        versions=int(versions),
        history_rows=int(rows),
        per_well={str(w): int(n) for w, n, _ in wells},
        oil_total=float(sum(oil for _, _, oil in wells)),
    )


def expected_per_well(count: int, prefix: str) -> dict[str, int]:
    return {f"{prefix}-{w}": len(range(w, count, WELLS)) for w in range(min(count, WELLS))}


def expected_oil(count: int) -> float:
    return float(sum(100.0 + i % 7 for i in range(count)))


#: Days a raw well reports before its records start over from a second source: the
#: validator rejects periods in the future, and 50 wells x 9,000 days end in 2024.
RAW_DAYS: Final = 9_000


def raw(i: int, prefix: str) -> bytes:
    """The ``i``-th synthetic raw daily record (what upstream sends to the validator).
    Past ``WELLS * RAW_DAYS`` records the days start over from another data source,
    which makes them other records (the source is part of the natural key)."""
    cycle, step = divmod(i // WELLS, RAW_DAYS)
    return orjson.dumps(
        {
            "well_code": f"{prefix}-{i % WELLS}",
            "production_period": (_EPOCH + timedelta(days=step)).isoformat(),
            "field_code": "F1",
            "days_on_production": 1,
            "oil_production_kbd": 0.1 + (i % 7) / 1000,
            "data_source": "chaos" if cycle == 0 else f"chaos-{cycle + 1}",
        }
    )


async def publish_raw(bootstrap: str, topic: str, count: int, prefix: str) -> None:
    """Publish ``count`` raw records (keyed by well) and wait for every acknowledgement."""
    config = {"enable_idempotence": True, "acks": "all", "linger_ms": 20}
    producer = AIOKafkaProducer(**_connection(bootstrap), **config)
    await producer.start()
    try:
        for start in range(0, count, 10_000):
            pending = [
                await producer.send(topic, raw(i, prefix), key=f"{prefix}-{i % WELLS}".encode())
                for i in range(start, min(start + 10_000, count))
            ]
            await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def end_offsets(bootstrap: str, topic: str) -> int:
    """How many messages ``topic`` holds (sum of its partitions' end offsets)."""
    admin = AIOKafkaAdminClient(**_connection(bootstrap))
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    partitions = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
    consumer = AIOKafkaConsumer(**_connection(bootstrap))
    await consumer.start()
    try:
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()


UNENRICHED_SQL: Final = """
SELECT countIf(operator IS NULL AND NOT has(flags, 'unknown_well')),
    countIf(has(flags, 'unknown_well'))
FROM production_history WHERE startsWith(well_code, {p:String})
"""


async def unenriched(ch: ClickHouse, prefix: str) -> tuple[int, int]:
    """Rows without reference data and without a flag saying so; rows flagged unknown."""
    ((silent, flagged),) = await ch.rows(UNENRICHED_SQL, parameters={"p": f"{prefix}-"})
    return int(silent), int(flagged)
