"""What the writer's two loops do with a batch (``writer.consumer.Loop``): normalized
records into ``production_history``, dead letters into ``dead_letters``. Each is a
decode step (pure CPU, in a worker thread) and a store step (inserts)."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from contracts.identifiers import DEFAULT_ORGANISATION
from runtime import kafka, tracing
from writer import deadletters, rows
from writer.cache import Invalidation
from writer.config import WriterSettings
from writer.consumer import Loop, Records
from writer.inserts import Inserts

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Letters:
    """The dead letters of one partition in one batch, as ``dead_letters`` columns."""

    columns: list[list[Any]]
    token: str


def decode_dead_letters(
    batch: Sequence[ConsumerRecord], default_organisation: str = DEFAULT_ORGANISATION
) -> list[Letters]:
    """A batch of the dead-letter topic as one insert per partition, each with the
    deduplication token of its offset range. A letter that names no owner is the
    ``default_organisation``'s."""
    by_partition: dict[tuple[str, int], list[tuple[Any, int, int]]] = {}
    for msg in batch:
        where = {"topic": msg.topic, "partition": msg.partition, "offset": msg.offset}
        letter = deadletters.parse(msg.value, **where)
        by_partition.setdefault((msg.topic, msg.partition), []).append(
            (letter, msg.partition, msg.offset)
        )
    return [
        Letters(
            deadletters.to_columns(letters, default_organisation),
            rows.dedup_token(topic, partition, letters[0][2], letters[-1][2]),
        )
        for (topic, partition), letters in by_partition.items()
    ]


async def store_dead_letters(decoded: Sequence[Letters], inserts: Inserts) -> None:
    for letters in decoded:
        await inserts.dead_letters(letters.columns, letters.token)


async def store_records(
    chunks: Sequence[rows.Chunk],
    inserts: Inserts,
    publish: deadletters.Publish,
    invalidation: Invalidation | None = None,
) -> None:
    """Insert a decoded batch and publish its dead letters; then, with ``invalidation``,
    bump the generations of the wells and fields it inserted (before its commit).
    Traced, the inserts are one span linked to the request of each record."""
    tracer = tracing.tracer("writer")
    if tracer is None:
        stored = await inserts.chunks(chunks, publish)
    else:
        messages = (m for chunk in chunks if chunk.rows for m in chunk.rows.messages)
        links = tracing.links(tracing.traceparent_of(m.headers) for m in messages)
        with tracer.start_as_current_span(f"insert {rows.HISTORY_TABLE}", links=links):
            stored = await inserts.chunks(chunks, publish)
    if invalidation is not None and stored.rows:
        await invalidation.bump(stored.wells, stored.fields)


def consumer_group(settings: WriterSettings) -> str:
    """The group of the writers of normalized records (its dead letters use another)."""
    return f"{settings.consumer_group_prefix}.writer"


def kafka_consumer(settings: WriterSettings, group: str) -> AIOKafkaConsumer:
    """A consumer with the writer's fetch settings; offsets are committed by the loop."""
    return AIOKafkaConsumer(
        **kafka.connection(settings),
        client_id="writer",
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=settings.batch_max_records,
        fetch_max_wait_ms=settings.batch_max_wait_ms,
        fetch_min_bytes=settings.batch_min_bytes,
        max_partition_fetch_bytes=settings.partition_fetch_bytes,
        max_poll_interval_ms=settings.max_poll_interval_ms,
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.session_timeout_ms // 3,
    )


def loop(
    settings: WriterSettings,
    topic: str,
    group: str,
    decode: Callable[[Records], T],
    store: Callable[[T], Awaitable[object]],
    label: str,
) -> Loop[T]:
    """A loop over ``topic`` in ``group`` with its own consumer, subscribed with the
    loop's rebalance listener."""
    consumer = kafka_consumer(settings, group)
    running = Loop(
        consumer,
        decode,
        store,
        label=label,
        max_records=settings.batch_max_records,
        wait_ms=settings.batch_max_wait_ms,
    )
    consumer.subscribe([topic], listener=running.listener)
    return running


def loops(
    settings: WriterSettings,
    inserts: Inserts,
    publish: deadletters.Publish,
    invalidation: Invalidation | None = None,
) -> tuple[Loop[list[rows.Chunk]], Loop[list[Letters]]]:
    """The loop of normalized records and the loop of dead letters, not started."""
    group = consumer_group(settings)
    records = loop(
        settings,
        settings.topic_normalized,
        group,
        partial(rows.prepare_batch, size=settings.insert_chunk_records),
        partial(store_records, inserts=inserts, publish=publish, invalidation=invalidation),
        "normalized",
    )
    # A group of its own: consumers of one group with different subscriptions would
    # make each other rebalance.
    letters = loop(
        settings,
        settings.topic_dlq,
        f"{group}-dlq",
        partial(decode_dead_letters, default_organisation=settings.default_organisation),
        partial(store_dead_letters, inserts=inserts),
        "dlq",
    )
    return records, letters
