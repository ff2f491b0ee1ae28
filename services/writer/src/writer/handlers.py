"""Kafka consumers: normalized records into ``production_history``, dead letters into
``dead_letters``.

Both are batch subscribers with ``AckPolicy.NACK_ON_ERROR``: offsets are committed
after the handler returned, i.e. after the insert succeeded and the writer's own dead
letters were acknowledged; an exception rewinds every partition of the batch.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import Consumer
from faststream.message import StreamMessage
from faststream.params import NoCast

from contracts import SCHEMA_VERSION, CanonicalRecord, DeadLetter, ErrorCode, ErrorDetail, topics
from writer import deadletters, metrics, sink
from writer.config import WriterSettings
from writer.store import Rejection, Store

Records = tuple[ConsumerRecord, ...]
Outgoing = tuple[DeadLetter, bytes | None, dict[str, str]]
Publish = Callable[[Sequence[Outgoing]], Awaitable[None]]


async def _raw_records(message: StreamMessage[Any]) -> Any:
    """Hand the handler the consumer records themselves: it needs their lineage and
    decodes the bodies itself (a body that is not a record is a dead letter)."""
    return message.raw_message


def _headers(record: ConsumerRecord) -> dict[str, str]:
    wanted = (topics.HEADER_CORRELATION_ID,)
    return {k: v.decode(errors="replace") for k, v in record.headers or () if k in wanted}


def _rejection_letter(rejection: Rejection) -> Outgoing:
    error = ErrorDetail(code=ErrorCode.INSERT_REJECTED, message=rejection.reason)
    letter = deadletters.rejected(
        rejection.record.model_dump_json().encode(),
        [error],
        topic=rejection.topic,
        partition=rejection.partition,
        offset=rejection.offset,
    )
    return letter, rejection.record.well_code.encode(), {}


async def store_normalized(batch: Records, store: Store, publish: Publish) -> None:
    """Insert the batch one partition slice at a time; send what cannot be stored to the
    dead-letter topic, and return only when both are durable."""
    good: list[tuple[str, int, int, CanonicalRecord]] = []
    letters: list[Outgoing] = []
    for msg in batch:
        parsed = sink.parse(msg.value)
        if isinstance(parsed, CanonicalRecord):
            good.append((msg.topic, msg.partition, msg.offset, parsed))
            continue
        where = {"topic": msg.topic, "partition": msg.partition, "offset": msg.offset}
        letters.append((deadletters.rejected(msg.value, parsed, **where), msg.key, _headers(msg)))
    for part in sink.slices(good):
        letters += [_rejection_letter(r) for r in await store.write(part)]
    if letters:
        await publish(letters)
        for letter, _, _ in letters:
            metrics.DEAD_LETTERS.labels(letter.errors[0].code).inc()


async def store_dead_letters(batch: Records, store: Store) -> None:
    by_partition: dict[int, list[tuple[DeadLetter, int, int]]] = {}
    for msg in batch:
        letter = deadletters.parse(
            msg.value, topic=msg.topic, partition=msg.partition, offset=msg.offset
        )
        by_partition.setdefault(msg.partition, []).append((letter, msg.partition, msg.offset))
    for partition, letters in by_partition.items():
        token = sink.dedup_token(batch[0].topic, partition, letters[0][2], letters[-1][2])
        await store.write_dead_letters(letters, token)


def record_lag(batch: Records, highwater: Callable[[TopicPartition], int | None]) -> None:
    last: dict[TopicPartition, int] = {}
    for msg in batch:
        last[TopicPartition(msg.topic, msg.partition)] = msg.offset
    for tp, offset in last.items():
        end = highwater(tp)
        if end is not None:
            metrics.CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(max(end - offset - 1, 0))


class _RebalanceMetrics(ConsumerRebalanceListener):  # type: ignore[misc]
    """Counts rebalances. Safety does not depend on it: a revoked partition's batch is
    committed only after its insert, and a batch replayed by the new owner carries the
    same deduplication token."""

    async def on_partitions_revoked(self, revoked: Any) -> None:
        metrics.REBALANCES.labels("revoked").inc(len(revoked))

    async def on_partitions_assigned(self, assigned: Any) -> None:
        metrics.REBALANCES.labels("assigned").inc(len(assigned))


def _subscriber(broker: KafkaBroker, settings: WriterSettings, topic: str, group: str) -> Any:
    return broker.subscriber(
        topic,
        group_id=group,
        batch=True,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
        max_records=settings.batch_max_records,
        batch_timeout_ms=settings.batch_max_wait_ms,
        fetch_max_wait_ms=settings.batch_max_wait_ms,
        fetch_min_bytes=settings.batch_min_bytes,
        max_partition_fetch_bytes=settings.partition_fetch_bytes,
        max_poll_interval_ms=settings.max_poll_interval_ms,
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.session_timeout_ms // 3,
        decoder=_raw_records,
        listener=_RebalanceMetrics(),
    )


def register(broker: KafkaBroker, settings: WriterSettings, store: Store, publish: Publish) -> None:
    """Declare both subscribers on ``broker`` (before it starts)."""
    group = f"{settings.consumer_group_prefix}.writer"

    async def on_normalized(batch: NoCast[Records], consumer: Consumer) -> None:
        metrics.BATCH_RECORDS.labels("normalized").observe(len(batch))
        try:
            await store_normalized(batch, store, publish)
        except Exception:
            metrics.BATCH_FAILURES.labels("normalized").inc()
            raise
        record_lag(batch, consumer.highwater)

    async def on_dead_letters(batch: NoCast[Records], consumer: Consumer) -> None:
        metrics.BATCH_RECORDS.labels("dlq").observe(len(batch))
        try:
            await store_dead_letters(batch, store)
        except Exception:
            metrics.BATCH_FAILURES.labels("dlq").inc()
            raise
        record_lag(batch, consumer.highwater)

    _subscriber(broker, settings, settings.topic_normalized, group)(on_normalized)
    # A group of its own: consumers of one group with different subscriptions would
    # make each other rebalance.
    _subscriber(broker, settings, settings.topic_dlq, f"{group}-dlq")(on_dead_letters)


def publisher(broker: KafkaBroker, topic: str) -> Publish:
    """Publish dead letters together and wait until Kafka acknowledged every one."""

    async def publish(letters: Sequence[Outgoing]) -> None:
        futures = [
            await broker.publish(
                letter.model_dump_json().encode(),
                topic=topic,
                key=key,
                headers={**headers, topics.HEADER_SCHEMA_VERSION: str(SCHEMA_VERSION)},
                no_confirm=True,
            )
            for letter, key, headers in letters
        ]
        await asyncio.gather(*futures)

    return publish
