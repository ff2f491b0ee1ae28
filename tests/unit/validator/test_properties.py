"""Property-based tests: unit conversions, rates and totals, derived metrics. (The clean
path agreeing with the explaining path: ``test_clean.py``.)"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.derived import derived
from contracts.units import GAS_UNITS, LIQUID_UNITS, Quantity, Unit
from validator.normalize import from_canonical, rate_from_total, to_canonical, total_from_rate

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
