"""Kafka consumers: normalized records into ``production_history``, dead letters into
``dead_letters``.

Both are batch subscribers that commit only what is stored. Normalized records commit
their offsets themselves, batch by batch, after the insert succeeded and the writer's
own dead letters were acknowledged (``writer.stream``: a handler call stores the
batches the consumer already holds, each decoded while the one before is inserted).
Dead letters use ``AckPolicy.NACK_ON_ERROR``: offsets are committed after the handler
returned. Either way an exception rewinds every partition not committed yet.
"""

import asyncio
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from aiokafka import ConsumerRebalanceListener, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import Consumer
from faststream.message import StreamMessage
from faststream.params import NoCast

from contracts import SCHEMA_VERSION, DeadLetter, topics
from runtime.kafka import Batch, batch_parser
from writer import deadletters, metrics, sink, stream
from writer.cache import Invalidation
from writer.config import WriterSettings
from writer.pipeline import Outgoing, Prepared, Publish, prepare, store_prepared
from writer.store import Store


async def _raw_records(message: StreamMessage[Any]) -> Any:
    """Hand the handler the consumer records themselves: it needs their lineage and
    decodes the bodies itself (a body that is not a record is a dead letter)."""
    return message.raw_message


async def store_dead_letters(batch: Batch, store: Store) -> None:
    by_partition: dict[int, list[tuple[DeadLetter, int, int]]] = {}
    for msg in batch:
        letter = deadletters.parse(
            msg.value, topic=msg.topic, partition=msg.partition, offset=msg.offset
        )
        by_partition.setdefault(msg.partition, []).append((letter, msg.partition, msg.offset))
    for partition, letters in by_partition.items():
        token = sink.dedup_token(batch[0].topic, partition, letters[0][2], letters[-1][2])
        await store.write_dead_letters(letters, token)


def record_lag(
    committed: stream.Offsets, highwater: Callable[[TopicPartition], int | None]
) -> None:
    """The lag behind each partition's end once ``committed`` (next offsets) is."""
    for tp, following in committed.items():
        end = highwater(tp)
        if end is not None:
            metrics.CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(max(end - following, 0))


class _RebalanceMetrics(ConsumerRebalanceListener):  # type: ignore[misc]
    """Counts rebalances. Safety does not depend on it: a revoked partition's batch is
    committed only after its insert, and a batch replayed by the new owner carries the
    same deduplication token."""

    async def on_partitions_revoked(self, revoked: Any) -> None:
        metrics.REBALANCES.labels("revoked").inc(len(revoked))

    async def on_partitions_assigned(self, assigned: Any) -> None:
        metrics.REBALANCES.labels("assigned").inc(len(assigned))


def consumer_group(settings: WriterSettings) -> str:
    """The group of the writers of normalized records (its dead letters use another)."""
    return f"{settings.consumer_group_prefix}.writer"


def _subscriber(
    broker: KafkaBroker, settings: WriterSettings, topic: str, group: str, ack_policy: AckPolicy
) -> Any:
    return broker.subscriber(
        topic,
        group_id=group,
        batch=True,
        ack_policy=ack_policy,
        auto_offset_reset="earliest",
        max_records=settings.batch_max_records,
        batch_timeout_ms=settings.batch_max_wait_ms,
        fetch_max_wait_ms=settings.batch_max_wait_ms,
        fetch_min_bytes=settings.batch_min_bytes,
        max_partition_fetch_bytes=settings.partition_fetch_bytes,
        max_poll_interval_ms=settings.max_poll_interval_ms,
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.session_timeout_ms // 3,
        parser=batch_parser,
        decoder=_raw_records,
        listener=_RebalanceMetrics(),
    )


def register(
    broker: KafkaBroker,
    settings: WriterSettings,
    store: Store,
    publish: Publish,
    invalidation: Invalidation | None = None,
) -> None:
    """Declare both subscribers on ``broker`` (before it starts). With ``invalidation``,
    the generations of what each batch inserted are bumped before it is committed."""
    group = consumer_group(settings)

    async def store_batch(prepared: Prepared) -> None:
        metrics.BATCH_RECORDS.labels("normalized").observe(len(prepared.batch))
        try:
            stored = await store_prepared(prepared, store, publish)
        except Exception:
            metrics.BATCH_FAILURES.labels("normalized").inc()
            raise
        if invalidation is not None and stored.rows:
            await invalidation.bump(stored.wells, stored.fields)

    async def on_normalized(batch: NoCast[Batch], consumer: Consumer) -> None:
        await stream.run(
            batch,
            consumer,
            partial(prepare, chunk=settings.insert_chunk_records),
            store_batch,
            max_records=settings.batch_max_records,
            committed=lambda offsets: record_lag(offsets, consumer.highwater),
        )

    async def on_dead_letters(batch: NoCast[Batch], consumer: Consumer) -> None:
        metrics.BATCH_RECORDS.labels("dlq").observe(len(batch))
        try:
            await store_dead_letters(batch, store)
        except Exception:
            metrics.BATCH_FAILURES.labels("dlq").inc()
            raise
        record_lag(stream.next_offsets(batch), consumer.highwater)

    # Offsets committed by ``stream.run``, batch by batch.
    _subscriber(broker, settings, settings.topic_normalized, group, AckPolicy.MANUAL)(on_normalized)
    # A group of its own: consumers of one group with different subscriptions would
    # make each other rebalance.
    _subscriber(broker, settings, settings.topic_dlq, f"{group}-dlq", AckPolicy.NACK_ON_ERROR)(
        on_dead_letters
    )


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
