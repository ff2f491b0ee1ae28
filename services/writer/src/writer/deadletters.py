"""Dead letters: the writer's own (records it cannot store) and the rows of the
``dead_letters`` table filled from the dead-letter topic.

A row's id comes from what the dead letter says, not from where it sits on the
dead-letter topic: a stage that rejects the same source message again (a replay)
publishes the same content, which lands on the same id and collapses in the table.
"""

import hashlib
from collections.abc import Sequence
from typing import Any, Final

import orjson
from pydantic import ValidationError

from contracts import DeadLetter, ErrorCode, ErrorDetail, KafkaSource

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
)


def rejected(
    value: bytes | None, errors: list[ErrorDetail], *, topic: str, partition: int, offset: int
) -> DeadLetter:
    """A writer-stage dead letter for a message read at ``topic/partition/offset``."""
    source = KafkaSource(topic=topic, partition=partition, offset=offset)
    return DeadLetter.for_payload(value or b"", stage="writer", errors=errors, source=source)


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


def to_columns(letters: Sequence[tuple[DeadLetter, int, int]]) -> list[list[Any]]:
    """Columns of ``(dead letter, partition, offset)`` in ``DEAD_LETTER_COLUMNS`` order."""
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
        )
        for dl, partition, offset in letters
    ]
    return [list(column) for column in zip(*rows, strict=True)] if rows else []
