"""The fast insert path: canonical JSON checked in C and handed to ClickHouse as it is.

Building a pydantic model and a Python value per column for every record costs more
than the insert itself. Instead, a chunk of messages is decoded with msgspec against a
strict mirror of ``contracts.CanonicalRecord`` (every field present, exact JSON types,
integers in the range of their column, dates and times the column can hold), and the
message bytes, with the Kafka lineage appended, go to ClickHouse as ``JSONEachRow``.

The mirror accepts a subset of what the model accepts and ClickHouse stores the same
values from either form. A chunk with any message outside that subset is not taken
here: the model path (``writer.sink``) handles it, and decides between a row and a dead
letter as it always did.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from operator import attrgetter
from typing import Annotated, Any, Final, Literal

import msgspec
import orjson
from aiokafka import ConsumerRecord

from writer.sink import dedup_token

U16 = Annotated[int, msgspec.Meta(ge=0, le=2**16 - 1)]
U32 = Annotated[int, msgspec.Meta(ge=0, le=2**32 - 1)]
#: UInt64 up to 2**63 - 1: msgspec bounds stop at int64 (a larger one takes the model path).
U64 = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
I32 = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]
I64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
Moment = Annotated[datetime, msgspec.Meta(tz=True)]

#: What ``Date32`` and ``DateTime64`` hold; ClickHouse would clamp anything outside.
_FIRST_DAY: Final = date(1900, 1, 1)
_LAST_DAY: Final = date(2299, 12, 31)
_FIRST_MOMENT: Final = datetime(1900, 1, 1, tzinfo=UTC)
_LAST_MOMENT: Final = datetime(2299, 12, 31, 23, 59, 59, tzinfo=UTC)

#: How ClickHouse reads the rows: exactly as the model path would store them.
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


class _Original(msgspec.Struct, gc=False):
    value: float | None
    unit: str


class Canonical(msgspec.Struct, gc=False):
    """``contracts.CanonicalRecord`` with every field required and typed strictly."""

    record_id: str
    version: U64
    well_code: str
    well_code_raw: str
    field_code: str
    field_name: str | None
    well_reference: str | None
    well_name: str | None
    period: str
    period_start: date
    period_type: Literal["day", "month"]
    days_in_period: U16
    days_on_production: float | None
    oil_bbl: float | None
    gas_mcf: float | None
    water_bbl: float | None
    liquids_bbl: float | None
    oil_production_kbd: float | None
    gas_production_mmcfd: float | None
    water_production_kbd: float | None
    liquids_production_kbd: float | None
    boe: float | None
    water_cut: float | None
    gor: float | None
    original_values: dict[str, _Original]
    #: A tuple: the same JSON as a list, and decoded without a container for the
    #: collector to track.
    flags: tuple[str, ...]
    operator: str | None
    basin: str | None
    country: str | None
    well_status: str | None
    data_source: str
    revision: U32
    extra: dict[str, Any]
    source_topic: str
    source_partition: I32
    source_offset: I64
    ingested_at: Moment
    normalized_at: Moment
    schema_version: U16
    # Columns the writer fills: no JSON value decodes as UNSET, so a message carrying
    # one (it would override the writer's value in ClickHouse) fails here.
    kafka_topic: msgspec.UnsetType = msgspec.UNSET
    kafka_partition: msgspec.UnsetType = msgspec.UNSET
    kafka_offset: msgspec.UnsetType = msgspec.UNSET
    inserted_at: msgspec.UnsetType = msgspec.UNSET


_DECODER: Final = msgspec.json.Decoder(Canonical)
_WELL: Final = attrgetter("well_code")
_FIELD: Final = attrgetter("field_code")
_VALUE: Final = attrgetter("value")
_OFFSET: Final = attrgetter("offset")


_RANGES: Final = (
    (attrgetter("period_start"), _FIRST_DAY, _LAST_DAY),
    (attrgetter("ingested_at"), _FIRST_MOMENT, _LAST_MOMENT),
    (attrgetter("normalized_at"), _FIRST_MOMENT, _LAST_MOMENT),
)


def _fits(records: list[Canonical]) -> bool:
    """Every date and time within what its column holds (checked per column, in C)."""
    for get, lowest, highest in _RANGES:
        values = list(map(get, records))
        if min(values) < lowest or max(values) > highest:
            return False
    return True


@dataclass(frozen=True, slots=True)
class Rows:
    """A chunk ready for one ``JSONEachRow`` insert."""

    body: bytes
    count: int
    token: str
    wells: frozenset[str]
    fields: frozenset[str]


def prepare(chunk: Sequence[ConsumerRecord]) -> Rows | None:
    """``chunk`` (one partition, offset order) as rows, or None when one of its messages
    is not a strictly canonical record (the model path then takes the whole chunk)."""
    if not chunk:
        return None
    decode = _DECODER.decode
    try:
        records = [decode(msg.value or b"") for msg in chunk]
    except msgspec.DecodeError:
        return None
    if not _fits(records):
        return None
    first = chunk[0]
    lineage = b',"kafka_topic":%b,"kafka_partition":%d,"kafka_offset":' % (
        orjson.dumps(first.topic),
        first.partition,
    )
    # A decoded object ends with "}" (trailing whitespace aside): the lineage goes before
    # it. Three pieces a row, laid out by slice assignment and joined once: a Python
    # step per piece would cost more than the copies.
    pieces = [lineage] * (3 * len(chunk))
    pieces[0::3] = [value.rstrip()[:-1] for value in map(_VALUE, chunk)]
    pieces[2::3] = [b"%d}\n" % offset for offset in map(_OFFSET, chunk)]
    body = b"".join(pieces)
    return Rows(
        body=body,
        count=len(chunk),
        token=dedup_token(first.topic, first.partition, first.offset, chunk[-1].offset),
        wells=frozenset(map(_WELL, records)),
        fields=frozenset(map(_FIELD, records)),
    )
