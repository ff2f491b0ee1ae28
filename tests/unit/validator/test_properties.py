"""Property-based tests: unit conversions, derived metrics, and the fast path agreeing
with the full path on every record it answers for."""

import json
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.units import GAS_UNITS, LIQUID_UNITS, Quantity, Unit
from tests.unit.validator.conftest import NOW, good, message
from validator import canonical
from validator.enrich import WellRef, enrich
from validator.fastpath import FastPath
from validator.normalize import (
    derived,
    from_canonical,
    rate_from_total,
    record_id,
    to_canonical,
    total_from_rate,
    version,
)
from validator.parse import Rejected, fields_of
from validator.parse import decode as full_decode
from validator.rules import Findings, Policy
from validator.structs import ENCODER, Canonical, RawMessage

PAIRS = [(Quantity.OIL, u) for u in LIQUID_UNITS] + [(Quantity.GAS, u) for u in GAS_UNITS]
volumes = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)
pairs = st.sampled_from(PAIRS)


@given(pairs, volumes)
def test_conversion_round_trips(pair: tuple[Quantity, Unit], value: float) -> None:
    quantity, unit = pair
    back = from_canonical(to_canonical(value, unit, quantity), unit, quantity)
    assert back == pytest.approx(value, rel=1e-12, abs=1e-9)


@given(pairs, volumes, volumes)
def test_conversion_is_monotonic(pair: tuple[Quantity, Unit], a: float, b: float) -> None:
    quantity, unit = pair
    low, high = sorted((a, b))
    assert to_canonical(low, unit, quantity) <= to_canonical(high, unit, quantity)  # type: ignore[operator]


@given(pairs)
def test_zero_stays_zero_and_null_stays_null(pair: tuple[Quantity, Unit]) -> None:
    quantity, unit = pair
    assert to_canonical(0.0, unit, quantity) == 0.0
    assert to_canonical(None, unit, quantity) is None


@given(st.floats(min_value=0, max_value=1e4, allow_nan=False), st.sampled_from([1, 28, 29, 30, 31]))
def test_rate_total_round_trip(rate: float, days: int) -> None:
    assert rate_from_total(total_from_rate(rate, days), days) == pytest.approx(rate, rel=1e-12)
    assert total_from_rate(None, days) is None


non_negative = st.none() | st.floats(min_value=0, max_value=1e9, allow_nan=False)


@given(non_negative, non_negative, non_negative, non_negative)
def test_derived_metrics_stay_in_range(
    oil: float | None, gas: float | None, water: float | None, liquids: float | None
) -> None:
    boe, water_cut, gor = derived(oil, gas, water, liquids)
    assert (boe is None) == (oil is None and gas is None and liquids is None)
    assert boe is None or boe >= 0
    assert water_cut is None or 0 <= water_cut <= 1
    assert gor is None or gor >= 0
    if not oil:
        assert gor is None


# --- the fast path agrees with the full path ------------------------------------------

numbers = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-5, max_value=400)
    | st.floats(min_value=-5, max_value=400, allow_nan=False)
    | st.sampled_from(["", " ", "1.5", " 2 ", "1_0", "nan", "inf", "abc", "1e2", "-0.5", "+1"])
    | st.sampled_from([".5", "5.", "1e999", "null", "\u0661"])
)
codes = (
    st.integers(min_value=-3, max_value=10**6)
    | st.text(alphabet="0123456789ABab- ", max_size=8)
    | st.sampled_from([True, 1.5, None, "\uff11\uff12", 10**30])
)
units = st.sampled_from(["bbl", "Sm3", "sm3", "m3", "scf", "Mcf", "MMcf", "barrels", " bbl "])
volume = st.none() | st.fixed_dictionaries({"value": numbers, "unit": units})
streams = st.sampled_from(["oil", "gas", "water", "liquids", "condensate"])
periods = st.sampled_from(["2024-01", "2024-02-29", "2023-02-29", "2024-13", "2024-1"]) | (
    st.sampled_from(["2024-03-31T00:00:00Z", "2024-03-31T01:00:00", "2031-01", "20240105", 202401])
)
changes = st.fixed_dictionaries(
    {},
    optional={
        "well_code": codes,
        "field_code": codes,
        "production_period": periods,
        "days_on_production": numbers,
        "oil_production_kbd": numbers,
        "gas_production_mmcfd": numbers,
        "water_production_kbd": numbers,
        "liquids_production_kbd": numbers,
        "volumes": st.none() | st.dictionaries(streams, volume, max_size=3),
        "data_source": st.none() | st.sampled_from(["", "anp", 7]),
        "revision": st.none() | st.sampled_from(["", "3", -1, 2, 5_000_000, True]),
        "well_name": st.none() | st.sampled_from(["W", 12]),
        "partition_0": st.sampled_from(["p", 1]),
        "note": st.sampled_from(["x", None]),
    },
)
POLICY = Policy()
REFERENCE = {"1234": WellRef(well_code="1234", operator="Petrobras", field_code="77")}


def full_path(value: bytes, reference: dict[str, WellRef] | None) -> Canonical | None:
    try:
        obj, _ = full_decode(value)
        fields = fields_of(obj)
    except Rejected:
        return None
    findings = Findings(POLICY)
    record = canonical.build(fields, findings, POLICY, NOW.date())
    if reference is not None and record is not None:
        enrich(record, record.well_code, reference.get(record.well_code), findings)
    if record is None or findings.errors:
        return None
    record.record_id = record_id(
        record.well_code, record.field_code, record.period, record.period_type, record.data_source
    )
    # The lineage of a RawMessage with no source, accepted at 0, as the pipeline adds it.
    record.version = version(record.revision, 0)
    record.normalized_at = NOW
    return record


def fast_path(value: bytes, reference: dict[str, WellRef] | None) -> Canonical | None:
    return FastPath(POLICY, NOW, reference).record(RawMessage(value))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes, st.booleans(), st.booleans())
def test_the_fast_path_agrees_with_the_full_path(
    change: dict[str, Any], enrich_on: bool, audit_last: bool
) -> None:
    value = raw_value(change, audit_last)
    reference = REFERENCE if enrich_on else None
    fast = fast_path(value, reference)
    if fast is None:
        return
    full = full_path(value, reference)
    assert full is not None, "the fast path kept a record the full path rejects"
    assert _encode(fast) == _encode(full)


def raw_value(change: dict[str, Any], audit_last: bool) -> bytes:
    """``good(**change)`` as JSON; with ``audit_last``, its ``source_data`` (if any) sent
    last, after any other field the contract does not name."""
    record = good(**change)
    if audit_last and "source_data" in record:
        record["source_data"] = record.pop("source_data")
    return json.dumps(record).encode()  # stdlib: integers beyond 64 bits too


def _encode(record: Canonical) -> bytes:
    """The bytes, not decoded dicts: -0.0 == 0.0 and 1 == 1.0, and key order counts."""
    return ENCODER.encode(record)


def test_the_fast_path_takes_a_clean_seed_record() -> None:
    assert fast_path(message(good()).value, None) is not None
    assert fast_path(message(good(production_period="2024-13")).value, None) is None
    assert date(2024, 1, 1) == fast_path(message(good()).value, None).period_start  # type: ignore[union-attr]
