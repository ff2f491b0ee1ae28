"""The raw-topic consumer: decode the batch, call the core, publish, then return.

The subscriber commits only after the handler returned (``NACK_ON_ERROR``), and the
handler returns only after Kafka acknowledged every record it published, so a commit
always follows a durable effect. A transient failure (Kafka, Redis) raises: the batch
is rewound and redelivered. Bad data never raises; it becomes a dead letter. Any other
failure splits the batch down to the message it fails on, which becomes a dead letter
alone (``isolate``): no message stops its partition.
"""

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage
from faststream.params import NoCast
from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Gauge, Histogram

from contracts import SCHEMA_VERSION
from contracts.topics import HEADER_ACCEPTED_AT, HEADER_CORRELATION_ID, HEADER_SCHEMA_VERSION
from runtime import tracing
from runtime.kafka import Outgoing, Producer, batch_parser
from validator.config import ValidatorSettings
from validator.isolate import failure, fitted, isolating
from validator.pipeline import Processed, RawMessage, accepted_ms, process_batch, wells_of
from validator.reference import ReferenceStore
from validator.rules import Policy

log = logging.getLogger(__name__)

RECORDS = Counter(
    "wellstream_validator_records_total", "Raw records handled, by outcome", ["outcome"]
)
FLAGS = Counter("wellstream_validator_flags_total", "Quality flags set on kept records", ["flag"])
REJECTIONS = Counter(
    "wellstream_validator_rejections_total", "Errors of rejected records, by code", ["code"]
)
BATCH_SECONDS = Histogram(
    "wellstream_validator_batch_seconds",
    "Time to handle one consumer batch, publishing included",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
CONSUMER_LAG = Gauge(
    "wellstream_validator_consumer_lag",
    "Messages between the consumer position and the partition's end",
    ["topic", "partition"],
)
_PARTITION = attrgetter("topic", "partition")
_OFFSET = attrgetter("offset")


def to_raw(record: "ConsumerRecord[Any, Any]") -> RawMessage:
    """The consumer record as the pipeline reads it. Only the two headers it needs are
    decoded (a value that is not text is read with replacement characters); its
    ``traceparent`` is kept as it came, to be carried forward."""
    accepted = correlation_id = traceparent = None
    for name, value in record.headers or ():
        if name == HEADER_ACCEPTED_AT:
            accepted = (value or b"").decode("utf-8", "replace")
        elif name == HEADER_CORRELATION_ID:
            correlation_id = (value or b"").decode("utf-8", "replace")
        elif name == tracing.TRACEPARENT:
            traceparent = value
    return RawMessage(
        record.value or b"",
        record.topic,
        record.partition,
        record.offset,
        accepted_ms(accepted, record.timestamp),
        record.key,
        correlation_id,
        traceparent,
    )


async def _raw_records(message: StreamMessage[Any]) -> Any:
    """Hand the handler the consumer records: it reads each body itself (one that is not
    a record is a dead letter), so FastStream's own JSON decoding of the batch is waste."""
    return message.raw_message


def register(
    broker: KafkaBroker,
    producer: Producer,
    settings: ValidatorSettings,
    policy: Policy,
    reference: ReferenceStore | None,
) -> None:
    """Subscribe the validator to the raw topic on ``broker``."""
    steps = Steps(producer, settings, policy, reference)

    subscriber = broker.subscriber(
        settings.topic_raw,
        group_id=f"{settings.consumer_group_prefix}.validator",
        batch=True,
        max_records=settings.batch_max_records,
        batch_timeout_ms=settings.batch_timeout_ms,
        max_poll_interval_ms=settings.max_poll_interval_ms,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        parser=batch_parser,
        decoder=_raw_records,
    )

    @subscriber
    async def validate(records: NoCast[tuple["ConsumerRecord[Any, Any]", ...]]) -> None:
        started = time.perf_counter()
        raw = [to_raw(r) for r in records]
        tracer = tracing.tracer("validator")
        if tracer is None:
            await isolating(raw, steps.attempt, steps.give_up)
        else:  # one span for the batch, linked to the request of each record
            with tracer.start_as_current_span(
                f"process {settings.topic_raw}",
                kind=SpanKind.CONSUMER,
                links=tracing.links(m.traceparent for m in raw),
                attributes={"messaging.batch.message_count": len(raw)},
            ):
                await isolating(raw, steps.attempt, steps.give_up)
        BATCH_SECONDS.observe(time.perf_counter() - started)
        record_lag(subscriber.consumer, records)


def record_lag(consumer: Any, records: Sequence["ConsumerRecord[Any, Any]"]) -> None:
    """The lag behind each partition's end once ``records`` are handled (bookkeeping: a
    failure to read it is logged, never a batch's)."""
    if consumer is None:
        return
    try:
        last = dict(zip(map(_PARTITION, records), map(_OFFSET, records), strict=True))
        for (topic, partition), offset in last.items():
            end = consumer.highwater(TopicPartition(topic, partition))
            if end is not None:
                CONSUMER_LAG.labels(topic, str(partition)).set(max(end - offset - 1, 0))
    except Exception:
        log.exception("consumer lag not recorded")


@dataclass(frozen=True, slots=True)
class Steps:
    """What the handler does with (part of) a batch, and with a message that fails alone
    (``isolate.isolating``)."""

    producer: Producer
    settings: ValidatorSettings
    policy: Policy
    reference: ReferenceStore | None

    async def attempt(self, messages: Sequence[RawMessage]) -> None:
        """Validate ``messages`` and publish the outcome; raises when any step fails."""
        store = self.reference
        refs = await store.lookup(wells_of(messages)) if store is not None else None
        result = process_batch(messages, self.policy, refs)
        await self._publish(fitted(result, messages, self.settings.producer_max_request_bytes))

    async def give_up(self, message: RawMessage, exc: BaseException) -> None:
        """Publish the dead letter of a message that fails alone."""
        result = Processed([], [failure(message, exc)], {})
        await self._publish(fitted(result, [message], self.settings.producer_max_request_bytes))

    async def _publish(self, result: Processed) -> None:
        await publish(self.producer, self.settings, result)
        observe(result)


async def publish(producer: Producer, settings: ValidatorSettings, result: Processed) -> None:
    """Publish every record and dead letter, then wait for all of Kafka's acks."""
    schema = str(SCHEMA_VERSION).encode()
    normalized, dlq = settings.topic_normalized, settings.topic_dlq
    messages: list[Outgoing] = [
        (
            normalized,
            item.body,
            item.key.encode(),
            _headers(item.correlation_id, schema, item.traceparent),
        )
        for item in result.normalized
    ]
    messages += [
        (
            dlq,
            rejection.dead_letter.model_dump_json().encode(),
            rejection.key,
            _headers(rejection.correlation_id, schema, rejection.traceparent),
        )
        for rejection in result.rejected
    ]
    await producer.send_all(messages)


def _headers(
    correlation_id: str | None, schema: bytes, traceparent: bytes | None
) -> list[tuple[str, bytes]]:
    headers = [(HEADER_SCHEMA_VERSION, schema)]
    if correlation_id:
        headers.append((HEADER_CORRELATION_ID, correlation_id.encode()))
    if traceparent:
        headers.append((tracing.TRACEPARENT, traceparent))
    return headers


def observe(result: Processed) -> None:
    RECORDS.labels("normalized").inc(len(result.normalized))
    RECORDS.labels("rejected").inc(len(result.rejected))
    _count(FLAGS, result.flags)
    codes: dict[str, int] = {}
    for rejection in result.rejected:
        for error in rejection.dead_letter.errors:
            codes[error.code] = codes.get(error.code, 0) + 1
    _count(REJECTIONS, codes)


def _count(counter: Counter, counts: Mapping[str, int]) -> None:
    for label, n in counts.items():
        counter.labels(label).inc(n)


__all__: Sequence[str] = ("Steps", "publish", "record_lag", "register", "to_raw")
