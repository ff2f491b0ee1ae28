"""Normalized messages to insert rows: each message decoded as a ``CanonicalRecord``, and
its bytes, with the Kafka lineage appended, handed to ClickHouse as ``JSONEachRow``.

Building a Python value per column for every record costs more than the insert itself.
So a chunk of messages is decoded with msgspec, in C, against the contract's struct
(every field present, exact JSON types, integers within their column), its dates and
times are held to what their columns hold (``within_columns``), and the message bytes go
to ClickHouse as they are. A message that does not decode is a dead letter with
msgspec's reason; the rest of the chunk is inserted.

A batch is cut into chunks, one insert each. Each insert's deduplication token names
its topic, partition and the offsets of its first and last row: Kafka never changes
what sits at an offset and decoding is deterministic, so the same range always carries
the same rows (dead letters included), and a chunk inserted again after a crash is
recognised by ClickHouse and skipped.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Final

import msgspec
import orjson
from aiokafka import ConsumerRecord

from contracts import CanonicalRecord, ErrorCode, ErrorDetail
from contracts.records import FIRST_DAY, LAST_DAY, within_columns
from writer import deadletters

HISTORY_TABLE: Final = "production_history"
#: The columns the writer fills from where it read the message.
LINEAGE: Final = ("kafka_topic", "kafka_partition", "kafka_offset")
#: The columns of an insert: the contract's fields, in order, then the lineage.
HISTORY_COLUMNS: Final = (*CanonicalRecord.__struct_fields__, *LINEAGE)

#: How ClickHouse reads the rows.
JSON_INPUT: Final = {
    "input_format_skip_unknown_fields": 1,  # consumers tolerate fields of newer schemas
    "input_format_json_read_objects_as_strings": 1,  # original_values, extra: JSON text
    "input_format_null_as_default": 0,
    "date_time_input_format": "best_effort",  # ISO 8601 with a zone
    "precise_float_parsing": 1,  # the same double Python reads, to the last bit
    # A chunk is one consumer batch at most: splitting its parsing over threads costs
    # more than it saves (measured on 2 cores: 153k -> 170k rows/s without it).
    "input_format_parallel_parsing": 0,
}


class _Message(CanonicalRecord, gc=False):
    """A message on the normalized topic: the contract's record, and nothing that would
    override a column the writer fills. No JSON value decodes as UNSET, so a message
    carrying one of these fails to decode (and is a dead letter)."""

    kafka_topic: msgspec.UnsetType = msgspec.UNSET
    kafka_partition: msgspec.UnsetType = msgspec.UNSET
    kafka_offset: msgspec.UnsetType = msgspec.UNSET
    inserted_at: msgspec.UnsetType = msgspec.UNSET


_decode: Final = msgspec.json.Decoder(_Message).decode
_WELL: Final = attrgetter("well_code")
_FIELD: Final = attrgetter("field_code")
_OFFSET: Final = attrgetter("offset")
#: The record's field an error is in: msgspec says where, e.g. "- at `$.flags[0]`".
_FIELD_IN_ERROR: Final = re.compile(r" - at `\$\.(\w+)")
_OUT_OF_COLUMN: Final = (
    f"a date or time beyond what its column holds ({FIRST_DAY} .. {LAST_DAY}):"
    " period_start, ingested_at or normalized_at"
)


def dedup_token(topic: str, partition: int, first: int, last: int) -> str:
    return f"{topic}/{partition}/{first}-{last}"


def _value(msg: ConsumerRecord) -> bytes:
    return msg.value or b""


def _body(messages: Sequence[ConsumerRecord]) -> bytes:
    """``messages`` (one partition) as JSONEachRow lines with their lineage appended."""
    first = messages[0]
    lineage = b',"kafka_topic":%b,"kafka_partition":%d,"kafka_offset":' % (
        orjson.dumps(first.topic),
        first.partition,
    )
    # A decoded object ends with "}" (trailing whitespace aside): the lineage goes before
    # it. Three pieces a row, laid out by slice assignment and joined once: a Python
    # step per piece would cost more than the copies.
    pieces = [lineage] * (3 * len(messages))
    pieces[0::3] = [value.rstrip()[:-1] for value in map(_value, messages)]
    pieces[2::3] = [b"%d}\n" % offset for offset in map(_OFFSET, messages)]
    return b"".join(pieces)


@dataclass(frozen=True, slots=True)
class Rows:
    """Messages of one partition, in offset order, ready for one ``JSONEachRow`` insert."""

    messages: Sequence[ConsumerRecord]
    body: bytes
    wells: frozenset[str]
    fields: frozenset[str]

    def __len__(self) -> int:
        return len(self.messages)

    @property
    def token(self) -> str:
        first, last = self.messages[0], self.messages[-1]
        return dedup_token(first.topic, first.partition, first.offset, last.offset)

    def split(self) -> tuple["Rows", "Rows"]:
        """Two halves, each with its own (narrower) offset range and so its own token."""
        mid = len(self.messages) // 2
        halves = self.messages[:mid], self.messages[mid:]
        return (
            Rows(halves[0], _body(halves[0]), self.wells, self.fields),
            Rows(halves[1], _body(halves[1]), self.wells, self.fields),
        )


@dataclass(frozen=True, slots=True)
class Chunk:
    """A chunk of a batch: the rows to insert (None: not one message decoded) and the
    dead letters of the messages that are not canonical records."""

    rows: Rows | None
    letters: list[deadletters.Outgoing]


def _rows(messages: Sequence[ConsumerRecord], records: Sequence[CanonicalRecord]) -> Rows | None:
    if not messages:
        return None
    wells, fields = frozenset(map(_WELL, records)), frozenset(map(_FIELD, records))
    return Rows(messages, _body(messages), wells, fields)


def why_not(value: bytes) -> CanonicalRecord | ErrorDetail:
    """``value`` as a canonical record, or why it is not one (msgspec names the first
    problem; bad data is a result, not an exception)."""
    try:
        record = _decode(value)
    except msgspec.ValidationError as exc:
        text = str(exc)
        field = _FIELD_IN_ERROR.search(text)
        missing = text.startswith("Object missing required field")
        code = ErrorCode.MISSING_FIELD if missing else ErrorCode.INVALID_VALUE
        name = field[1] if field else (text.split("`")[1] if missing else None)
        return ErrorDetail(field=name, code=code, message=text[:500])
    except msgspec.DecodeError as exc:
        return ErrorDetail(code=ErrorCode.UNPARSEABLE_JSON, message=str(exc)[:500])
    except Exception as exc:  # no message may stop its partition
        message = f"{type(exc).__name__}: {exc}"[:500]
        return ErrorDetail(code=ErrorCode.PROCESSING_FAILED, message=message)
    if not within_columns([record]):
        return ErrorDetail(code=ErrorCode.INVALID_VALUE, message=_OUT_OF_COLUMN)
    return record


def _sorted_out(chunk: Sequence[ConsumerRecord]) -> Chunk:
    """The explaining path of a chunk with a message that is not a record: each message
    decoded alone, the records kept, the others dead letters with the reason."""
    kept: list[ConsumerRecord] = []
    records: list[CanonicalRecord] = []
    letters: list[deadletters.Outgoing] = []
    for msg in chunk:
        result = why_not(_value(msg))
        if isinstance(result, ErrorDetail):
            letters.append(deadletters.undecodable(msg, result))
        else:
            kept.append(msg)
            records.append(result)
    return Chunk(_rows(kept, records), letters)


def prepare(chunk: Sequence[ConsumerRecord]) -> Chunk:
    """``chunk`` (one partition, offset order) as rows and dead letters. Pure CPU: it
    runs in a worker thread while the chunks before are inserted."""
    try:
        records = list(map(_decode, map(_value, chunk)))
    except Exception:  # each message alone says which, and why
        return _sorted_out(chunk)
    if not within_columns(records):
        return _sorted_out(chunk)
    return Chunk(_rows(chunk, records), [])


def chunks(batch: Iterable[ConsumerRecord], size: int) -> list[list[ConsumerRecord]]:
    """The messages of ``batch`` per partition in offset order, cut where the offset
    crosses a multiple of ``size``. Each chunk is one insert; a replay whose batches are
    cut elsewhere still repeats most chunks exactly, and so their deduplication tokens."""
    by_partition: dict[tuple[str, int], list[list[ConsumerRecord]]] = {}
    for msg in batch:
        runs = by_partition.setdefault((msg.topic, msg.partition), [])
        last = runs[-1][-1].offset if runs else None
        if last is not None and msg.offset <= last:
            raise ValueError(f"offsets out of order in {msg.topic}/{msg.partition}")
        if last is None or last // size != msg.offset // size:
            runs.append([])
        runs[-1].append(msg)
    return [chunk for runs in by_partition.values() for chunk in runs]


def prepare_batch(batch: Sequence[ConsumerRecord], size: int) -> list[Chunk]:
    """``batch`` cut into its inserts (``chunks``), each prepared."""
    return [prepare(chunk) for chunk in chunks(batch, size)]
