"""Kafka through FastStream: one broker factory, topic provisioning, readiness.

Every Kafka client of the project, in the services and in the command-line tools, is
built with ``connection(settings)`` (aiokafka) or ``make_broker`` (FastStream), so each
one speaks the transport the settings name: PLAINTEXT, SSL, or SASL (PLAIN, SCRAM) over
either, as managed Kafka services require.
"""

import asyncio
import contextlib
import dataclasses
import logging
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final

from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    CorruptRecordException,
    InvalidTimestampError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    TopicAlreadyExistsError,
    UnsupportedForMessageFormatError,
)
from aiokafka.partitioner import murmur2
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from faststream.kafka import KafkaBroker
from faststream.kafka.security import parse_security
from faststream.message import StreamMessage
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from runtime.settings import Settings

log = logging.getLogger(__name__)


#: Every service's producer settings; other producers (backfill, bench, chaos) start from
#: these and override what their workload needs.
PRODUCER_CONFIG: dict[str, Any] = {
    "enable_idempotence": True,
    "acks": "all",
    "linger_ms": 5,
    "max_batch_size": 1024 * 1024,
    # zstd at Kafka's default level (3): aiokafka's lz4 runs at level 9 (LZ4HC), which at
    # about 90 MB/s took a seventh of the pipeline's interpreter time; zstd compresses
    # the same records 3-4x faster and smaller (measured on normalized records: lz4-9
    # 91 MB/s, ratio 5.4; zstd-3 about 300 MB/s, ratio 8). Brokers since 2.1 take it.
    "compression_type": "zstd",
    "request_timeout_ms": 30_000,
}


_SASL = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context of ``SSL`` and ``SASL_SSL``: brokers verified (host name included)
    against ``kafka_ssl_cafile`` or the system's CAs; a client certificate if set."""
    if not settings.kafka_security_protocol.endswith("SSL"):
        return None
    context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile)
    if settings.kafka_ssl_certfile:
        context.load_cert_chain(settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile)
    return context


def security(settings: Settings) -> BaseSecurity | None:
    """The transport as FastStream's ``security=`` object (None: PLAINTEXT)."""
    protocol, context = settings.kafka_security_protocol, ssl_context(settings)
    if protocol == "PLAINTEXT":
        return None
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    password = settings.kafka_sasl_password
    return _SASL[settings.kafka_sasl_mechanism](
        username=settings.kafka_sasl_username or "",
        password=password.get_secret_value() if password else "",
        ssl_context=context,
        use_ssl=protocol == "SASL_SSL",
    )


def connection(settings: Settings) -> dict[str, Any]:
    """aiokafka's connection arguments (``bootstrap_servers``, ``security_protocol``,
    ``sasl_*``, ``ssl_context``), the same FastStream derives from ``security``: pass
    them to every ``AIOKafkaProducer``, ``AIOKafkaConsumer`` and admin client."""
    return {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        **parse_security(security(settings)),
    }


def producer_config(settings: Settings) -> dict[str, Any]:
    """A producer's arguments: the connection, ``PRODUCER_CONFIG``, and the largest
    record it may send, which the topics it writes accept."""
    return (
        connection(settings)
        | PRODUCER_CONFIG
        | {"max_request_size": settings.producer_max_request_bytes}
    )


Batch = tuple[ConsumerRecord, ...]


def _text_headers(record: ConsumerRecord) -> ConsumerRecord:
    headers = [
        (name, (value or b"").decode("utf-8", "replace").encode()) for name, value in record.headers
    ]
    return dataclasses.replace(record, headers=headers)


async def batch_parser(
    batch: Batch, parse: Callable[[Batch], Awaitable[StreamMessage[Batch]]]
) -> StreamMessage[Batch]:
    """FastStream's batch parser, for header values that are not text.

    It decodes every header value as UTF-8, and upstream systems set binary ones (trace
    ids, fingerprints) and null ones. The first such value would fail the batch before
    any handler saw it: neither handled nor rewound, it would be committed over by the
    next. Here such a batch is parsed from copies whose header values are decoded with
    replacement; the handler still gets the records as they came."""
    try:
        return await parse(batch)
    except (UnicodeDecodeError, AttributeError):  # AttributeError: a null value
        parsed = await parse(tuple(map(_text_headers, batch)))
        parsed.raw_message = batch
        return parsed


def make_broker(settings: Settings, *, client_id: str) -> KafkaBroker:
    """A broker whose producer is idempotent and waits for every in-sync replica, so an
    acknowledged publish is durable and a retried one is not duplicated."""
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=client_id,
        security=security(settings),
        **PRODUCER_CONFIG,
        max_request_size=settings.producer_max_request_bytes,
        logger=logging.getLogger(f"wellstream.{client_id}"),
    )


Outgoing = tuple[str, bytes, bytes | None, list[tuple[str, bytes]]]
"""A message to send: topic, value, key, headers."""

#: Errors that blame the message sent (its size, its form), not Kafka: sending it again
#: fails again, so it must not be retried for ever.
MESSAGE_ERRORS: tuple[type[Exception], ...] = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    RecordListTooLargeError,
    CorruptRecordException,
    InvalidTimestampError,
    UnsupportedForMessageFormatError,
)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a dependency failing rather than a message: Kafka unreachable, a
    timeout, no leader, and any other Kafka error that does not blame the message (an
    authorization, a stopped producer), which no dead letter would get past either; a
    connection or an operating system error. Retry it later, commit nothing."""
    if isinstance(exc, MESSAGE_ERRORS):
        return False
    return isinstance(exc, KafkaError | ConnectionError | TimeoutError | OSError)


def record_size(value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]) -> int:
    """The size a producer gives a record before it checks ``max_request_size``."""
    return int(DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers))


class Producer:
    """A producer for bulk publishing, configured as the broker's own (idempotent,
    ``acks=all``). FastStream's per-message ``publish`` costs about twice as much per
    record, which matters at pipeline rates; consumers stay FastStream subscribers."""

    def __init__(self, settings: Settings, *, client_id: str) -> None:
        self._settings = settings
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._partitions = Partitions()

    async def start(self) -> None:
        # Built here, not in __init__: aiokafka needs a running event loop, and apps are
        # composed before uvicorn starts one.
        config = producer_config(self._settings)
        self._producer = AIOKafkaProducer(client_id=self._client_id, **config)
        await self._producer.start()

    async def stop(self, within: float = 10.0) -> None:
        # An idempotent producer retries unacknowledged batches for as long as Kafka is
        # away; shutdown must not wait for ever (what was not acknowledged was not
        # committed either, so it is redelivered).
        if self._producer is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._producer.stop(), within)

    async def send_all(self, messages: Iterable[Outgoing]) -> int:
        """Send every message, then wait until Kafka acknowledged all of them. A keyed
        message goes to its key's partition as aiokafka's default partitioner picks it
        (``Partitions``, remembered across calls)."""
        if self._producer is None:
            raise RuntimeError("the producer is not started")
        send, partitions = self._producer.send, self._partitions
        checked: set[str] = set()
        pending = []
        for topic, value, key, headers in messages:
            partition = None
            if key is not None:
                if topic not in checked:
                    checked.add(topic)
                    partitions.refresh(topic, await self._producer.partitions_for(topic))
                partition = partitions.of(topic, key)
            pending.append(await send(topic, value, key=key, partition=partition, headers=headers))
        await asyncio.gather(*pending)
        return len(pending)


class Partitions:
    """Each key's partition as aiokafka's default partitioner picks it (murmur2 of the key
    over the topic's partitions, Java's choice too), remembered: keys (wells) repeat from
    batch to batch, and the partitioner and its metadata look-ups are pure Python, about a
    tenth of the validator's time per record in a profile of the pipeline. What is
    remembered is dropped when a topic's partition count changes, and when full."""

    LIMIT: Final = 65_536

    def __init__(self) -> None:
        self._of: dict[tuple[str, bytes], int] = {}
        self._sorted: dict[str, list[int]] = {}

    def refresh(self, topic: str, partitions: set[int]) -> None:
        """Take the topic's current partitions; a change forgets its keys' partitions."""
        ordered = sorted(partitions)
        if self._sorted.get(topic) != ordered:
            self._sorted[topic] = ordered
            self._of = {k: p for k, p in self._of.items() if k[0] != topic}

    def of(self, topic: str, key: bytes) -> int:
        """The partition of ``key`` in ``topic`` (``refresh`` first)."""
        found = self._of.get((topic, key))
        if found is None:
            ordered = self._sorted[topic]
            found = ordered[(murmur2(key) & 0x7FFFFFFF) % len(ordered)]
            if len(self._of) >= self.LIMIT:
                self._of.clear()
            self._of[topic, key] = found
        return found


async def ensure_topics(settings: Settings) -> None:
    """Create the pipeline's topics when missing (a no-op where they exist), each with
    ``max.message.bytes`` of ``topic_max_message_bytes``: the limit is the topic's own,
    not whatever the cluster's default happens to be."""
    admin = AIOKafkaAdminClient(**connection(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [settings.topic_raw, settings.topic_normalized, settings.topic_dlq]
        limits = {"max.message.bytes": str(settings.topic_max_message_bytes)}
        new = [
            NewTopic(
                name,
                num_partitions=settings.topic_partitions,
                replication_factor=settings.topic_replication_factor,
                topic_configs=limits,
            )
            for name in wanted
            if name not in existing
        ]
        if new:
            with contextlib.suppress(TopicAlreadyExistsError):  # another service was first
                await admin.create_topics(new)
            log.info("created topics %s", [t.name for t in new])
    finally:
        await admin.close()


async def ping(broker: KafkaBroker, within: float = 5.0) -> None:
    """Raise unless the broker answers a metadata request within ``within`` seconds."""
    if not await asyncio.wait_for(broker.ping(timeout=within), within + 1):
        raise ConnectionError("Kafka did not answer")
