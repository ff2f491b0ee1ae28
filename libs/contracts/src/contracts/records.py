"""Record models: what upstream systems send and what the pipeline produces.

The raw record is a pydantic model: it explains every problem of what upstream sends.
The canonical record is a msgspec struct: the pipeline encodes and decodes it in C.
Consumers tolerate unknown fields: a raw record keeps them verbatim (``extra``), and
canonical records ignore fields added by a newer schema.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from operator import attrgetter
from typing import Annotated, Any, Final, Literal

import msgspec
from pydantic import BaseModel, ConfigDict, Field, field_validator

from contracts.identifiers import DEFAULT_ORGANISATION

SCHEMA_VERSION: Final = 1

Number = float | None


class VolumeIn(BaseModel):
    """A period total with an explicit unit, as sent upstream."""

    model_config = ConfigDict(extra="allow")

    value: float | None = None
    unit: str


class RawRecord(BaseModel):
    """One raw production record as upstream systems publish it on ``production.raw.v1``.

    Numbers may arrive as JSON strings; an empty string means "not measured" (null).
    Unknown fields are kept (``model_extra``) for audit and never interpreted.
    """

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    well_code: str = Field(min_length=1)
    production_period: str = Field(min_length=7)
    field_code: str | None = None
    field_name: str | None = None
    well_reference: str | None = None
    well_name: str | None = None
    days_on_production: Number = None
    oil_production_kbd: Number = None
    gas_production_mmcfd: Number = None
    water_production_kbd: Number = None
    liquids_production_kbd: Number = None
    volumes: dict[str, VolumeIn | None] | None = None
    data_source: str = "unknown"
    revision: Annotated[int, Field(ge=0)] = 0
    organisation: str | None = None

    @field_validator(
        "days_on_production",
        "oil_production_kbd",
        "gas_production_mmcfd",
        "water_production_kbd",
        "liquids_production_kbd",
        mode="before",
    )
    @classmethod
    def _blank_is_null(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("data_source", mode="before")
    @classmethod
    def _default_source(cls, value: Any) -> Any:
        return "unknown" if value is None or value == "" else value

    @field_validator("organisation", mode="before")
    @classmethod
    def _absent_organisation(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("revision", mode="before")
    @classmethod
    def _absent_revision(cls, value: Any) -> Any:
        return 0 if value is None or value == "" else value


#: Column bounds of the canonical record, as ClickHouse stores it: a value outside them
#: would be clamped or refused by the column, so the record is refused before.
U16 = Annotated[int, msgspec.Meta(ge=0, le=2**16 - 1)]
U32 = Annotated[int, msgspec.Meta(ge=0, le=2**32 - 1)]
#: UInt64 up to 2**63 - 1: msgspec bounds stop at int64 (``version`` holds 64 - 1 bits).
U64 = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
I32 = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]
I64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
Moment = Annotated[datetime, msgspec.Meta(tz=True)]

#: What ``Date32`` and ``DateTime64`` hold; ClickHouse would clamp anything outside.
FIRST_DAY: Final = date(1900, 1, 1)
LAST_DAY: Final = date(2299, 12, 31)
FIRST_MOMENT: Final = datetime(1900, 1, 1, tzinfo=UTC)
LAST_MOMENT: Final = datetime(2299, 12, 31, 23, 59, 59, tzinfo=UTC)


class OriginalValue(msgspec.Struct, gc=False):
    """The value and unit a quantity arrived in, kept beside its canonical value."""

    value: float | None
    unit: str


class CanonicalRecord(msgspec.Struct, gc=False):
    """A validated, normalized record (``production.normalized.v1`` and ClickHouse): the
    one definition of its fields, their order and their bounds. The validator encodes it,
    the writer decodes it and inserts its fields as columns of the same names
    (``production_history``, held to it by a test).

    ``record_id`` identifies the natural key (well, field, period, period type, source,
    owner ``organisation``: two organisations never replace each other's records);
    ``version`` orders the versions of one key: the upstream revision first, then the
    time the raw message was first accepted, so reprocessing a message yields the same
    version and a late copy of an older revision never wins (``contracts.identifiers``).
    Every field but ``organisation`` is required: the validator writes them all. Fields a
    newer schema adds are ignored by a reader of this one.
    """

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
    original_values: dict[str, OriginalValue]
    flags: list[str]
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
    #: A record of a validator that predates owners (in flight during an upgrade) is the
    #: default organisation's, as every record stored before.
    organisation: str = DEFAULT_ORGANISATION


def _empty(kind: msgspec.inspect.Type) -> Any:
    """The empty value of a field's type: null where it may be null, else "", 0, [] or {};
    ``...`` where no value is empty (a date, a moment, a literal)."""
    if isinstance(kind, msgspec.inspect.UnionType):
        if any(isinstance(t, msgspec.inspect.NoneType) for t in kind.types):
            return None
        return _empty(kind.types[0])
    empties: dict[type, Any] = {
        msgspec.inspect.StrType: "",
        msgspec.inspect.IntType: 0,
        msgspec.inspect.FloatType: 0.0,
    }
    if isinstance(kind, msgspec.inspect.ListType | msgspec.inspect.DictType):
        return [] if isinstance(kind, msgspec.inspect.ListType) else {}
    return empties.get(type(kind), ...)


_EMPTY: Final = {
    field.name: _empty(field.type)
    for field in msgspec.inspect.type_info(CanonicalRecord).fields  # type: ignore[attr-defined]
}


def canonical_record(**given: Any) -> CanonicalRecord:
    """A record of ``given`` fields, every other one empty (``_empty``), for tools that build
    records by hand (the fault suite, benchmarks, tests): a field added to the contract needs
    no change there. Fields without an empty value (dates, moments, the period type) must be
    given."""
    values = _EMPTY | {"schema_version": SCHEMA_VERSION, "organisation": DEFAULT_ORGANISATION}
    values |= given
    missing = sorted(name for name, value in values.items() if value is ...)
    if missing:
        raise TypeError(f"canonical_record needs {', '.join(missing)}")
    return CanonicalRecord(**values)


#: The moments and days of a record, with what their columns hold (``within_columns``).
_DATED: Final = (
    (attrgetter("period_start"), FIRST_DAY, LAST_DAY),
    (attrgetter("ingested_at"), FIRST_MOMENT, LAST_MOMENT),
    (attrgetter("normalized_at"), FIRST_MOMENT, LAST_MOMENT),
)


def within_columns(records: Sequence[CanonicalRecord]) -> bool:
    """Every date and time of ``records`` within what its column holds (msgspec bounds
    numbers, not dates); checked per column, in C."""
    if not records:
        return True
    for get, lowest, highest in _DATED:
        values = list(map(get, records))
        if min(values) < lowest or max(values) > highest:
            return False
    return True


ENCODER: Final = msgspec.json.Encoder()
encode: Final = ENCODER.encode
"""A canonical record (or anything msgspec encodes) as JSON bytes."""
_DECODER: Final = msgspec.json.Decoder(CanonicalRecord)
decode_canonical: Final = _DECODER.decode
"""JSON bytes as a ``CanonicalRecord``; raises ``msgspec.ValidationError`` or
``msgspec.DecodeError`` naming the first problem."""
