"""The fast path: a clean record straight from its JSON bytes to its canonical record.

Almost every record is clean: plain JSON shapes, canonical identifiers, a valid period,
rates within limits, a known well. For those, msgspec decodes the bytes in C and one
flat function does what ``parse.fields_of`` + ``canonical.build`` do, without building
findings. The moment anything is unusual (a value pydantic would have to coerce, any
rule that would flag or reject, except a padded or spaced identifier) it gives up and
the full path decides and explains. A property test checks that both paths give the
same record wherever the fast one answers.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Final

import msgspec
import orjson
from msgspec import UNSET

from contracts.units import Quantity, factor_to_canonical
from validator.enrich import WellRef, apply
from validator.normalize import (
    MAX_REVISION,
    RATE_TO_TOTAL,
    canonical_code,
    derived,
    parse_period,
    record_id,
    unit_of,
)
from validator.parse import KNOWN
from validator.rules import Flag, Policy
from validator.structs import RAW_DECODER, Canonical, Original, Raw, Volume

_VOLUME_STREAMS: Final = {"oil": 0, "gas": 1, "water": 2, "liquids": 3}
_QUANTITIES: Final = (Quantity.OIL, Quantity.GAS, Quantity.WATER, Quantity.LIQUIDS)
_NORMALIZED: Final = Flag.IDENTIFIER_NORMALIZED.value


class NotClean(Exception):
    """The record needs the full path."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What the fast path needs of a ``Policy``, in the order of the streams."""

    ceilings: tuple[float, float, float, float]
    latest_start: date

    @classmethod
    def of(cls, policy: Policy, today: date) -> "Limits":
        oil, gas, water, liquids = (policy.ceilings[q] for q in _QUANTITIES)
        return cls((oil, gas, water, liquids), policy.latest_start(today))


def decode(value: bytes) -> tuple[Raw, dict[str, Any]] | None:
    """The raw record and its unknown fields, or None when it is not plainly shaped."""
    try:
        raw = RAW_DECODER.decode(value)
    except msgspec.ValidationError:
        return _with_unknown_fields(value)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    extra = {}
    if raw.source_data is not UNSET:
        extra["source_data"] = raw.source_data
    if raw.partition_0 is not UNSET:
        extra["partition_0"] = raw.partition_0
    return raw, extra


def _with_unknown_fields(value: bytes) -> tuple[Raw, dict[str, Any]] | None:
    try:
        obj = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if type(obj) is not dict:
        return None
    extra = {key: obj.pop(key) for key in obj.keys() - KNOWN}
    try:
        return msgspec.convert(obj, Raw), extra
    except msgspec.ValidationError:
        return None


def fast_record(
    raw: Raw,
    extra: dict[str, Any],
    limits: Limits,
    reference: Mapping[str, WellRef | None] | None,
) -> Canonical | None:
    """The canonical record (without lineage) of a clean record, else None."""
    try:
        record = _clean(raw, extra, limits)
    except NotClean:
        return None
    if reference is not None:
        well = reference.get(record.well_code)
        if well is None:
            return None  # an unknown well is flagged
        apply(record, well)
    record.record_id = record_id(
        record.well_code, record.field_code, record.period, record.period_type, record.data_source
    )
    return record


def _number(value: float | str | None) -> float | None:
    """A finite float from a JSON number or numeric string; None for null or blank."""
    if value is None or value.__class__ is float:
        return value
    text: str = value  # type: ignore[assignment]
    try:
        number = float(text)
    except ValueError:
        if text.strip():
            raise NotClean from None
        return None
    # float() also reads "1_0", "inf" and non-ASCII digits; leave those to pydantic.
    if number - number == 0 and text.isascii() and "_" not in text:
        return number
    raise NotClean


def _rate(value: float | str | None, ceiling: float) -> float | None:
    if value is None:
        return None
    number = value if value.__class__ is float else _number(value)
    if number is None or 0 <= number <= ceiling:
        return number
    raise NotClean


def _text(value: int | str) -> str:
    if type(value) is int:
        if -(2**63) <= value < 2**63:
            return str(value)
        raise NotClean  # pydantic writes such integers in float notation
    return value  # type: ignore[return-value]


def _revision(value: int | str | None) -> int:
    if value is None or value == "":
        return 0
    if type(value) is int and 0 <= value <= MAX_REVISION:
        return value
    raise NotClean


def _clean(raw: Raw, extra: dict[str, Any], limits: Limits) -> Canonical:
    """Every check the full path makes, as plain comparisons; raises ``NotClean``."""
    well_raw = _text(raw.well_code)
    well = canonical_code(well_raw)
    field_raw = "" if raw.field_code is None else _text(raw.field_code)
    field = canonical_code(field_raw)
    period = parse_period(raw.production_period)
    if not well or period is None:
        raise NotClean
    text, start, kind, days = period
    if start > limits.latest_start:
        raise NotClean
    # The one flag taken here: codes are often padded, and that is no reason to slow down.
    flags = [] if well == well_raw and field == field_raw else [_NORMALIZED]
    days_on = _number(raw.days_on_production)
    if days_on is not None and not 0 <= days_on <= days:
        raise NotClean
    ceilings = limits.ceilings
    rates = [
        _rate(raw.oil_production_kbd, ceilings[0]),
        _rate(raw.gas_production_mmcfd, ceilings[1]),
        _rate(raw.water_production_kbd, ceilings[2]),
        _rate(raw.liquids_production_kbd, ceilings[3]),
    ]
    # Same arithmetic, in the same order, as canonical._streams: both paths agree bit for bit.
    totals = [
        None if rates[0] is None else rates[0] * days * RATE_TO_TOTAL,
        None if rates[1] is None else rates[1] * days * RATE_TO_TOTAL,
        None if rates[2] is None else rates[2] * days * RATE_TO_TOTAL,
        None if rates[3] is None else rates[3] * days * RATE_TO_TOTAL,
    ]
    original: dict[str, Original] = {}
    if raw.volumes is not None:
        _volumes(raw.volumes, days, ceilings, rates, totals, original)
    oil, gas, water, liquids = rates
    oil_bbl, gas_mcf, water_bbl, liquids_bbl = totals
    if oil_bbl is None and gas_mcf is None and water_bbl is None and liquids_bbl is None:
        raise NotClean  # nothing measured: flagged
    if days_on == 0 and (oil_bbl or gas_mcf or water_bbl or liquids_bbl):
        raise NotClean  # volumes without producing time: flagged
    boe, water_cut, gor = derived(oil_bbl, gas_mcf, water_bbl, liquids_bbl)
    return Canonical(
        "",
        0,
        well,
        well_raw,
        field,
        raw.field_name,
        raw.well_reference,
        raw.well_name,
        text,
        start,
        kind,
        days,
        days_on,
        oil_bbl,
        gas_mcf,
        water_bbl,
        liquids_bbl,
        oil,
        gas,
        water,
        liquids,
        boe,
        water_cut,
        gor,
        original,
        flags,
        None,
        None,
        None,
        None,
        raw.data_source or "unknown",
        _revision(raw.revision),
        extra,
    )


def _volumes(
    volumes: dict[str, Volume | None],
    days: int,
    ceilings: tuple[float, float, float, float],
    rates: list[float | None],
    totals: list[float | None],
    original: dict[str, Original],
) -> None:
    """Rates from the volumes measured in known units, within the ceilings."""
    for stream, entry in volumes.items():
        if entry is None:
            if stream not in _VOLUME_STREAMS:
                raise NotClean  # an unknown stream is flagged
            continue
        i, factor = _factor(stream, entry.unit)
        value = _number(entry.value)
        if value is not None:
            total = value * factor
            rate = total / days / RATE_TO_TOTAL
            if not 0 <= rate <= ceilings[i]:
                raise NotClean
            rates[i], totals[i] = rate, total
            original[stream] = Original(value, entry.unit)


@lru_cache(maxsize=1_024)
def _factor(stream: str, unit: str) -> tuple[int, float]:
    """The stream's index and the unit's factor to canonical; ``NotClean`` when either
    is unknown or they do not fit."""
    i = _VOLUME_STREAMS.get(stream)
    known = unit_of(unit)
    factor = None if i is None or known is None else factor_to_canonical(_QUANTITIES[i], known)
    if i is None or factor is None:
        raise NotClean
    return i, factor
