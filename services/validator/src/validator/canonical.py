"""The full path: one raw record's fields to a canonical record, with every finding.

Records are ``structs.Canonical`` (the msgspec mirror of ``contracts.CanonicalRecord``),
built once and never validated twice; the pipeline adds enrichment, ``record_id`` and
the message's lineage, then encodes them.
"""

from datetime import date
from typing import Any, Final

from contracts import ErrorCode
from contracts.units import Quantity, factor_to_canonical
from validator.normalize import (
    MAX_REVISION,
    canonical_code,
    derived,
    parse_period,
    rate_from_total,
    total_from_rate,
    unit_of,
)
from validator.parse import Fields
from validator.rules import (
    Findings,
    Flag,
    Policy,
    check_producing_time,
    check_rate,
    check_totals,
)
from validator.structs import Canonical, Original

#: (stream, name in ``volumes``, rate field, canonical total field)
STREAMS: Final = (
    (Quantity.OIL, "oil", "oil_production_kbd", "oil_bbl"),
    (Quantity.GAS, "gas", "gas_production_mmcfd", "gas_mcf"),
    (Quantity.WATER, "water", "water_production_kbd", "water_bbl"),
    (Quantity.LIQUIDS, "liquids", "liquids_production_kbd", "liquids_bbl"),
)
_STREAM_NAMES: Final = frozenset(name for _, name, _, _ in STREAMS)
_UNITS_HINT: Final = "is not one of bbl, Sm3, m3, scf, Mcf, MMcf"


def build(fields: Fields, out: Findings, policy: Policy, today: date) -> Canonical | None:
    """The canonical record without lineage, enrichment or ``record_id``, or None when a
    finding rejects it. Every check runs, so ``out`` holds every finding."""
    record = _identity(fields, out)
    period = parse_period(fields["production_period"])
    days = None
    if period is None:
        out.add(ErrorCode.INVALID_PERIOD, "production_period", value=fields["production_period"])
    elif period.start > policy.latest_start(today):
        limit = policy.latest_start(today).isoformat()
        out.add(ErrorCode.FUTURE_PERIOD, "production_period", value=period.period, limit=limit)
    else:
        days = period.days
    if fields["revision"] > MAX_REVISION:
        out.add(ErrorCode.INVALID_VALUE, "revision", problem=f"more than {MAX_REVISION}")
    days_on = fields["days_on_production"]
    if days is not None:
        check_producing_time(days_on, days, policy, out)
    _streams(fields, days, record, policy, out)
    totals = (record["oil_bbl"], record["gas_mcf"], record["water_bbl"], record["liquids_bbl"])
    check_totals(totals, days_on, out)
    if out.errors or period is None:
        return None
    boe, water_cut, gor = derived(*totals)
    return Canonical(
        record_id="",
        version=0,
        period=period.period,
        period_start=period.start,
        period_type=period.kind,
        days_in_period=period.days,
        days_on_production=days_on,
        boe=boe,
        water_cut=water_cut,
        gor=gor,
        flags=out.flags,
        **record,
    )


def _identity(fields: Fields, out: Findings) -> dict[str, Any]:
    raw_well = fields["well_code"]
    well = canonical_code(raw_well)
    if not well:
        out.add(ErrorCode.INVALID_VALUE, "well_code", problem="blank")
    elif well != raw_well:
        out.add(Flag.IDENTIFIER_NORMALIZED, "well_code", value=raw_well)
    raw_field = fields["field_code"]
    field = canonical_code(raw_field) if raw_field else ""
    if raw_field and field != raw_field:
        out.add(Flag.IDENTIFIER_NORMALIZED, "field_code", value=raw_field)
    return {
        "well_code": well,
        "well_code_raw": raw_well,
        "field_code": field,
        "field_name": fields["field_name"],
        "well_reference": fields["well_reference"],
        "well_name": fields["well_name"],
        "operator": None,
        "basin": None,
        "country": None,
        "well_status": None,
        "data_source": fields["data_source"],
        "revision": fields["revision"],
        "extra": fields["extra"],
    }


def _streams(
    fields: Fields, days: int | None, record: dict[str, Any], policy: Policy, out: Findings
) -> None:
    """Totals and rates of every stream, from ``volumes`` when measured there, else from
    the rate. A volume's value and unit as sent go to ``original_values``; a rate sent
    as such is kept as it came in its rate field."""
    volumes = fields["volumes"] or {}
    original: dict[str, Original] = {}
    for quantity, name, rate_field, total_field in STREAMS:
        volume = volumes.get(name)
        rate = total = None
        if volume is not None:
            factor = _factor(quantity, name, volume["unit"], out)
            value = volume["value"]
            if factor is not None and value is not None:
                total = value * factor
                rate = rate_from_total(total, days) if days else None
                original[name] = Original(value, volume["unit"])
        if total is None and (rate := fields[rate_field]) is not None:
            total = total_from_rate(rate, days) if days else None
        check_rate(quantity, rate_field, rate, policy, out)
        record[rate_field] = rate
        record[total_field] = total
    record["original_values"] = original
    unknown = {k: v for k, v in volumes.items() if k not in _STREAM_NAMES}
    if unknown:
        for name in unknown:
            out.add(Flag.UNKNOWN_VOLUME_STREAM, value=name)
        record["extra"] = {**record["extra"], "volumes": unknown}


def _factor(quantity: Quantity, name: str, text: str, out: Findings) -> float | None:
    unit = unit_of(text)
    factor = None if unit is None else factor_to_canonical(quantity, unit)
    if factor is None:
        problem = _UNITS_HINT if unit is None else f"does not fit {name}"
        out.add(ErrorCode.UNKNOWN_UNIT, f"volumes.{name}.unit", value=text, problem=problem)
    return factor
