"""Dead letters: the writer's own (records it cannot store), sent to the dead-letter
topic, and the rows of the ``dead_letters`` table filled from that topic.

A row's id comes from what the dead letter says, not from where it sits on the
dead-letter topic: a stage that rejects the same source message again (a replay)
publishes the same content, which lands on the same id and collapses in the table.
"""

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import orjson
from aiokafka import ConsumerRecord
from pydantic import ValidationError

from contracts import SCHEMA_VERSION, DeadLetter, ErrorCode, ErrorDetail, KafkaSource, topics
from contracts.identifiers import DEFAULT_ORGANISATION
from runtime import kafka

DEAD_LETTERS_TABLE: Final = "dead_letters"
DEAD_LETTER_COLUMNS: Final = (
    "id",
    "stage",
    "errors",
    "error_codes",
    "source_topic",
    "source_partition",
    "source_offset",
    "line",
    "failed_at",
    "payload",
    "payload_base64",
    "kafka_partition",
    "kafka_offset",
    "accepted_at_ms",
    "payload_truncated",
    "organisation",
)


def rejected(
    value: bytes | None, errors: list[ErrorDetail], *, topic: str, partition: int, offset: int
) -> DeadLetter:
    """A writer-stage dead letter for a message read at ``topic/partition/offset``."""
    source = KafkaSource(topic=topic, partition=partition, offset=offset)
    return DeadLetter.for_payload(value or b"", stage="writer", errors=errors, source=source)


Outgoing = tuple[DeadLetter, bytes | None, dict[str, str]]
"""A writer dead letter to publish: the letter, the message's key and headers to keep."""
Publish = Callable[[Sequence[Outgoing]], Awaitable[None]]

_KEPT_HEADERS: Final = (topics.HEADER_CORRELATION_ID,)


def _headers(msg: ConsumerRecord) -> dict[str, str]:
    # A header value need not be text (nor present): it is kept with replacements.
    return {
        name: (value or b"").decode(errors="replace")
        for name, value in msg.headers or ()
        if name in _KEPT_HEADERS
    }


def _outgoing(msg: ConsumerRecord, error: ErrorDetail) -> Outgoing:
    where = {"topic": msg.topic, "partition": msg.partition, "offset": msg.offset}
    return rejected(msg.value, [error], **where), msg.key, _headers(msg)


def undecodable(msg: ConsumerRecord, error: ErrorDetail) -> Outgoing:
    """The dead letter of a message that is not a canonical record."""
    return _outgoing(msg, error)


def insert_rejected(msg: ConsumerRecord, reason: str) -> Outgoing:
    """The dead letter of a message whose row ClickHouse would not take."""
    return _outgoing(msg, ErrorDetail(code=ErrorCode.INSERT_REJECTED, message=reason))


def publisher(producer: kafka.Producer, topic: str) -> Publish:
    """Publish dead letters together and return once Kafka acknowledged every one."""

    async def publish(letters: Sequence[Outgoing]) -> None:
        version = (topics.HEADER_SCHEMA_VERSION, str(SCHEMA_VERSION).encode())
        await producer.send_all(
            (
                topic,
                letter.model_dump_json().encode(),
                key,
                [*((k, v.encode()) for k, v in headers.items()), version],
            )
            for letter, key, headers in letters
        )

    return publish


def parse(value: bytes | None, *, topic: str, partition: int, offset: int) -> DeadLetter:
    """The dead letter on the topic; a message that is not one is still kept, wrapped in
    a writer-stage dead letter that says so (a dead-letter topic drops nothing)."""
    try:
        return DeadLetter.model_validate_json(value or b"")
    except ValidationError as exc:
        error = ErrorDetail(code=ErrorCode.UNPARSEABLE_JSON, message=str(exc)[:500])
        return rejected(value, [error], topic=topic, partition=partition, offset=offset)


def dead_letter_id(letter: DeadLetter) -> str:
    identity: dict[str, Any] = {
        "stage": letter.stage,
        "codes": [e.code for e in letter.errors],
        "payload": letter.payload,
        "payload_base64": letter.payload_base64,
    }
    if letter.source is not None:
        identity["source"] = letter.source.model_dump()
    else:  # HTTP intake: no replayable position, so the time tells two rejections apart
        identity["line"] = letter.line
        identity["failed_at"] = letter.failed_at.isoformat()
    return hashlib.sha256(orjson.dumps(identity, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def to_columns(
    letters: Sequence[tuple[DeadLetter, int, int]], default_organisation: str = DEFAULT_ORGANISATION
) -> list[list[Any]]:
    """Columns of ``(dead letter, partition, offset)`` in ``DEAD_LETTER_COLUMNS`` order.
    A letter naming no owner (a stage that predates owners, a message that names none)
    belongs to ``default_organisation``."""
    rows = [
        (
            dead_letter_id(dl),
            dl.stage,
            orjson.dumps([e.model_dump() for e in dl.errors]).decode(),
            [e.code for e in dl.errors],
            dl.source.topic if dl.source else None,
            dl.source.partition if dl.source else None,
            dl.source.offset if dl.source else None,
            dl.line,
            dl.failed_at,
            dl.payload,
            dl.payload_base64,
            partition,
            offset,
            dl.accepted_at_ms,
            dl.payload_truncated,
            dl.organisation or default_organisation,
        )
        for dl, partition, offset in letters
    ]
    return [list(column) for column in zip(*rows, strict=True)] if rows else []
