"""The ratios the gateway answers over summed volumes are the contract's (``contracts.derived``),
the same the validator computes per record."""

from datetime import date

import pytest

from contracts import derived
from gateway import queries


@pytest.mark.parametrize(
    ("oil", "gas", "liquids", "expected"),
    [
        pytest.param(100.0, 600.0, 10.0, 210.0, id="all-streams"),
        pytest.param(None, 600.0, None, 100.0, id="gas-only"),
        pytest.param(100.0, None, None, 100.0, id="oil-only"),
        pytest.param(None, None, None, None, id="nothing-measured"),
        pytest.param(0.0, 0.0, 0.0, 0.0, id="measured-zero"),
    ],
)
def test_boe(
    oil: float | None, gas: float | None, liquids: float | None, expected: float | None
) -> None:
    assert derived.boe(oil, gas, liquids) == expected


@pytest.mark.parametrize(
    ("oil", "water", "liquids", "expected"),
    [
        pytest.param(75.0, 25.0, None, 0.25, id="oil-and-water"),
        pytest.param(50.0, 25.0, 25.0, 0.25, id="liquids-count-as-produced"),
        pytest.param(100.0, None, None, None, id="water-not-measured"),
        pytest.param(0.0, 0.0, 0.0, None, id="nothing-produced"),
        # the contract's policy: no ratio without a hydrocarbon stream measured
        pytest.param(None, 10.0, None, None, id="only-water"),
        pytest.param(-5.0, 10.0, None, None, id="negative-oil-correction"),
        pytest.param(20.0, -10.0, None, None, id="negative-water-correction"),
    ],
)
def test_water_cut(
    oil: float | None, water: float | None, liquids: float | None, expected: float | None
) -> None:
    assert derived.water_cut(oil, water, liquids) == expected


@pytest.mark.parametrize(
    ("oil", "gas", "expected"),
    [
        pytest.param(100.0, 50.0, 500.0, id="scf-per-bbl"),
        pytest.param(0.0, 50.0, None, id="no-oil"),
        pytest.param(-5.0, 50.0, None, id="negative-oil-correction"),
        pytest.param(None, 50.0, None, id="oil-not-measured"),
        pytest.param(100.0, None, None, id="gas-not-measured"),
        pytest.param(100.0, -50.0, None, id="negative-gas-correction"),
    ],
)
def test_gor(oil: float | None, gas: float | None, expected: float | None) -> None:
    assert derived.gor(oil, gas) == expected


@pytest.mark.parametrize(
    "sums",
    [
        pytest.param((31.0, 300.0, 600.0, 100.0, 20.0), id="every-stream"),
        pytest.param((1.0, None, None, 10.0, None), id="water-only"),
        pytest.param((1.0, -5.0, 30.0, 10.0, None), id="negative-oil"),
        pytest.param((None, None, None, None, None), id="nothing-measured"),
    ],
)
def test_series_points_and_totals_answer_the_contracts_values(
    sums: tuple[float | None, ...],
) -> None:
    _, oil, gas, water, liquids = sums
    expected = derived.derived(oil, gas, water, liquids)
    item = queries.point_item((date(2024, 1, 1), "month", *sums))
    assert (item["boe"], item["water_cut"], item["gor"]) == expected
    totals = queries.totals(sums)
    assert (totals.boe, totals.water_cut, totals.gor) == expected
