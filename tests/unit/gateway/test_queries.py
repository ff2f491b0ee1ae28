from datetime import date
from typing import Any

import pytest

from gateway import queries, sql
from gateway.models import ProductionSeries
from gateway.periods import Granularity


@pytest.mark.parametrize(
    ("scope", "granularity", "fragment"),
    [
        pytest.param("well", "day", "period_start AS bucket", id="well-day"),
        pytest.param("well", "month", "toMonth(period_start), 1) AS bucket", id="well-month"),
        pytest.param("field", "year", "makeDate32(toYear(period_start), 1, 1)", id="field-year"),
    ],
)
def test_series_sql_splices_only_known_fragments(
    scope: sql.Scope, granularity: Granularity, fragment: str
) -> None:
    text = sql.series(scope, granularity, after=False)
    assert fragment in text
    assert f"{sql.SCOPE_COLUMN[scope]} = {{code:String}}" in text
    assert "HAVING" not in text
    assert "FINAL" not in text


def test_series_sql_with_cursor_pages_after_the_key() -> None:
    text = sql.series("well", "month", after=True)
    assert "HAVING (bucket, unit) > ({after:Date32}, {after_unit:String})" in text


def test_point_derives_ratios_from_sums() -> None:
    p = queries.point(date(2024, 1, 1), "month", (31.0, 300.0, 600.0, 100.0, None))
    assert p.period == "2024-01"
    assert p.boe == 400.0
    assert p.water_cut == 0.25
    assert p.gor == 2000.0
    assert p.liquids_bbl is None


@pytest.mark.parametrize(
    "row",
    [
        pytest.param((date(2024, 1, 1), "month", 31.0, 300.0, 600.0, 100.0, None), id="month"),
        pytest.param((date(2024, 1, 1), "year", None, None, None, None, None), id="all-null"),
        pytest.param((date(2024, 2, 29), "day", 1.0, 0.0, 5.5, 0.0, 2.25), id="zero-oil"),
        pytest.param((date(2024, 1, 1), "month", 1e-9, 1e300, 3.3, None, 7.0), id="extremes"),
        pytest.param(
            (date(2024, 1, 1), "month", 31.0, 3.0, 6.0, None, None, 10.0, 20.0, None),
            id="cumulative",
        ),
    ],
)
def test_series_page_serializes_as_the_production_series_model(row: tuple[Any, ...]) -> None:
    page = queries.SeriesPage("month", [queries.point_item(row)], next_cursor="abc")
    model = ProductionSeries(
        granularity="month", items=[queries.point(row[0], row[1], row[2:])], next_cursor="abc"
    )
    # the running totals are there only when asked for
    unasked = {"items": {"__all__": set(queries.CUMULATIVE_KEYS)}} if len(row) == 7 else None
    assert page.json() == model.model_dump_json(exclude=unasked).encode()


def test_rates_per_calendar_and_producing_day() -> None:
    item = queries.point_item((date(2024, 2, 1), "month", 20.0, 290.0, None, -29.0, None))
    assert item["oil_rate_cd"] == 10.0  # 29 days in February 2024
    assert item["oil_rate_pd"] == 14.5
    assert item["gas_rate_cd"] is None
    assert item["gas_rate_pd"] is None
    assert item["water_rate_cd"] == -1.0
    year = queries.point_item((date(2023, 1, 1), "year", 0.0, 365.0, 730.0, None, None))
    assert (year["oil_rate_cd"], year["gas_rate_cd"]) == (1.0, 2.0)
    assert year["oil_rate_pd"] is None  # no producing days
    assert "cum_oil_bbl" not in year
