"""One raw record's fields to its canonical record: the steps both paths take.

The explaining path (``build``) takes every step over fields pydantic read and collects
every finding; the clean path (``clean``) takes the same steps over fields msgspec read,
asks what depends on a well or a period once, and gives up at the first finding. Both
end in ``assemble``, the one place a ``contracts.CanonicalRecord`` is made: its derived
values, ``record_id`` and ``version`` come from ``contracts``.
"""

from collections.abc import Mapping
from datetime import UTC, date, datetime
from itertools import repeat
from typing import Any, Final, NamedTuple, Protocol

import msgspec

from contracts import SCHEMA_VERSION, ErrorCode
from contracts.derived import derived
from contracts.identifiers import canonical_code, record_id, version
from contracts.records import CanonicalRecord, OriginalValue
from contracts.units import Quantity
from validator.messages import RawMessage
from validator.normalize import (
    Period,
    factor_of,
    parse_period,
    rate_from_total,
    total_from_rate,
    unit_of,
)
from validator.rules import (
    Findings,
    Flag,
    Policy,
    check_code,
    check_name,
    check_rate,
    check_rates,
)

#: (stream, name in ``volumes``, rate field, canonical total field)
STREAMS: Final = (
    (Quantity.OIL, "oil", "oil_production_kbd", "oil_bbl"),
    (Quantity.GAS, "gas", "gas_production_mmcfd", "gas_mcf"),
    (Quantity.WATER, "water", "water_production_kbd", "water_bbl"),
    (Quantity.LIQUIDS, "liquids", "liquids_production_kbd", "liquids_bbl"),
)
STREAM_NAMES: Final = frozenset(name for _, name, _, _ in STREAMS)
_RATE_FIELDS: Final = tuple((quantity, rate_field) for quantity, _, rate_field, _ in STREAMS)
_UNITS_HINT: Final = "is not one of bbl, Sm3, m3, scf, Mcf, MMcf"

Numbers = tuple[float | None, float | None, float | None, float | None]
"""One number per stream, in the order of ``STREAMS``."""
_NONE: Final[Numbers] = (None, None, None, None)


class Sent(NamedTuple):
    """What a record says of its well, as read (text)."""

    well_code: str
    field_code: str | None
    field_name: str | None
    well_reference: str | None
    well_name: str | None
    organisation: str | None
    data_source: str


class Volume(Protocol):
    """A period total with its unit, as read (``contracts.VolumeIn`` or msgspec's)."""

    @property
    def value(self) -> float | None: ...
    @property
    def unit(self) -> str: ...


class Measured(msgspec.Struct, frozen=True, gc=False):
    """A record's numbers: producing days, and per stream its rate and total."""

    days_on: float | None
    rates: Numbers
    totals: Numbers
    original: dict[str, OriginalValue]


class Audit(msgspec.Struct, frozen=True, gc=False):
    """What a record carries besides its well, period and numbers."""

    revision: int
    flags: list[str]
    extra: dict[str, Any]


#: Every field unset: a record with a field left so cannot be encoded.
_UNSET: Final[dict[str, Any]] = dict.fromkeys(CanonicalRecord.__struct_fields__, object())


def identity(sent: Sent, policy: Policy, out: Findings) -> CanonicalRecord:
    """A record of the well ``sent`` names, with only its well part set: canonical well
    and field codes (a blank well code, or a code ``rules.check_code`` refuses, is a
    finding; so is a changed code), its owner (the policy's default organisation when it
    names none), the rest as sent, no enrichment yet (``enrich.enrich``). ``assemble``
    sets the other fields of a copy."""
    record = CanonicalRecord(**_UNSET)
    record.organisation = sent.organisation or policy.default_organisation
    if sent.organisation:
        check_code("organisation", sent.organisation, out)
    well = _code("well_code", sent.well_code, out)
    if well == "":
        out.add(ErrorCode.INVALID_VALUE, "well_code", problem="blank")
    elif well is not None and well != sent.well_code:
        out.add(Flag.IDENTIFIER_NORMALIZED, "well_code", value=sent.well_code)
    raw_field = sent.field_code
    field = _code("field_code", raw_field, out) if raw_field else ""
    if raw_field and field is not None and field != raw_field:
        out.add(Flag.IDENTIFIER_NORMALIZED, "field_code", value=raw_field)
    record.well_code, record.field_code = well or "", field or ""
    check_code("data_source", sent.data_source, out)
    for name in ("field_name", "well_reference", "well_name"):
        check_name(name, getattr(sent, name), out)
    record.well_code_raw = sent.well_code
    record.field_name = sent.field_name
    record.well_reference = sent.well_reference
    record.well_name = sent.well_name
    record.data_source = sent.data_source
    record.operator = record.basin = record.country = record.well_status = None
    return record


def _code(field: str, text: str, out: Findings) -> str | None:
    """The canonical form of code ``text``; None when it is refused (a finding), so that
    no cache keeps what is not a code."""
    return canonical_code(text) if check_code(field, text, out) else None


def dated(text: str, policy: Policy, today: date, out: Findings) -> tuple[Period | None, int]:
    """The period of ``text`` and its days; no days (0) when it is not a period or starts
    too late (both findings)."""
    period = parse_period(text)
    if period is None:
        out.add(ErrorCode.INVALID_PERIOD, "production_period", value=text)
        return None, 0
    latest = policy.latest_start(today)
    if period.start > latest:
        limit = latest.isoformat()
        out.add(ErrorCode.FUTURE_PERIOD, "production_period", value=period.period, limit=limit)
        return period, 0
    return period, period.days


def measure(
    days_on: float | None,
    rates: Numbers,
    volumes: Mapping[str, Volume | None] | None,
    days: int,
    policy: Policy,
    out: Findings,
) -> Measured:
    """Totals and rates of every stream, from ``volumes`` when measured there, else from
    its rate, each rate held to its ceiling; no totals over a period of no days."""
    if volumes:
        return _with_volumes(days_on, rates, volumes, days, policy, out)
    check_rates(_RATE_FIELDS, rates, policy, out)
    totals = (*map(total_from_rate, rates, repeat(days)),) if days else _NONE
    return Measured(days_on, rates, totals, {})  # type: ignore[arg-type]


def _with_volumes(
    days_on: float | None,
    rates: Numbers,
    volumes: Mapping[str, Volume | None],
    days: int,
    policy: Policy,
    out: Findings,
) -> Measured:
    """``measure``, where some streams may be measured in ``volumes``: a volume's value and
    unit as sent go to ``original_values``; a rate sent as such is kept as it came."""
    kept: list[float | None] = []
    totals: list[float | None] = []
    original: dict[str, OriginalValue] = {}
    for (quantity, name, rate_field, _), sent_rate in zip(STREAMS, rates):  # noqa: B905
        rate, total = sent_rate, None
        volume = volumes.get(name)
        if volume is not None:
            factor = _factor(quantity, name, volume.unit, out)
            value = volume.value
            if factor is not None and value is not None:
                total = value * factor
                rate = rate_from_total(total, days) if days else None
                original[name] = OriginalValue(value, volume.unit)
        if total is None and rate is not None:
            total = total_from_rate(rate, days) if days else None
        check_rate(quantity, rate_field, rate, policy, out)
        kept.append(rate)
        totals.append(total)
    return Measured(days_on, (*kept,), (*totals,), original)  # type: ignore[arg-type]


def _factor(quantity: Quantity, name: str, text: str, out: Findings) -> float | None:
    factor = factor_of(quantity, text)
    if factor is None:
        problem = _UNITS_HINT if unit_of(text) is None else f"does not fit {name}"
        out.add(ErrorCode.UNKNOWN_UNIT, f"volumes.{name}.unit", value=text, problem=problem)
    return factor


class Clock:
    """A batch's time: when it is normalized, and when each raw message was first
    accepted (made into a datetime once per millisecond seen)."""

    __slots__ = ("_ingested", "now", "today")

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.today = now.date()
        self._ingested: dict[int, datetime] = {}

    def ingested_at(self, accepted_ms: int) -> datetime:
        at = self._ingested.get(accepted_ms)
        if at is None:
            at = self._ingested[accepted_ms] = datetime.fromtimestamp(accepted_ms / 1000, UTC)
        return at


def assemble(
    well: CanonicalRecord,
    period: Period,
    measured: Measured,
    audit: Audit,
    message: RawMessage,
    clock: Clock,
) -> CanonicalRecord:
    """A copy of ``well`` (a record with its well part set, ``identity``) with every other
    field set: numbers, derived values, identity, version and lineage."""
    record = msgspec.structs.replace(well)  # a copy
    key = (well.well_code, well.field_code, period.period, period.kind, well.data_source)
    record.record_id = record_id(*key, well.organisation)
    record.version = version(audit.revision, message.accepted_ms)
    record.period, record.period_start, record.period_type, record.days_in_period = period
    record.days_on_production = measured.days_on
    oil, gas, water, liquids = (
        record.oil_bbl,
        record.gas_mcf,
        record.water_bbl,
        record.liquids_bbl,
    ) = measured.totals
    (
        record.oil_production_kbd,
        record.gas_production_mmcfd,
        record.water_production_kbd,
        record.liquids_production_kbd,
    ) = measured.rates
    record.boe, record.water_cut, record.gor = derived(oil, gas, water, liquids)
    record.original_values = measured.original
    record.flags = audit.flags
    record.revision = audit.revision
    record.extra = audit.extra
    record.source_topic = message.topic
    record.source_partition = message.partition
    record.source_offset = message.offset
    record.ingested_at = clock.ingested_at(message.accepted_ms)
    record.normalized_at = clock.now
    record.schema_version = SCHEMA_VERSION
    return record
