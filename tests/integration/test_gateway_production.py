"""The well series and stats against the real ClickHouse engine, rows restated and split."""

from typing import Any

import httpx
import pytest

from runtime.clickhouse import ClickHouse
from tests.integration.gateway_support import Row, insert, serve, settings

pytestmark = pytest.mark.integration


async def series(api: httpx.AsyncClient, well: str, query: str = "") -> list[dict[str, Any]]:
    response = await api.get(f"/api/v1/wells/{well}/production?{query}")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_only_the_newest_version_counts(
    api: httpx.AsyncClient, clickhouse: ClickHouse, unique: str
) -> None:
    well = f"W{unique}"
    await insert(
        clickhouse,
        [
            Row(well, "2024-01", version=1, days_on_production=31, oil_bbl=100.0, gas_mcf=60.0),
            Row(well, "2024-01", version=3, days_on_production=30, oil_bbl=250.0, gas_mcf=None),
            Row(well, "2024-01", version=2, days_on_production=29, oil_bbl=999.0, gas_mcf=5.0),
        ],
    )
    (item,) = await series(api, well)
    assert item["period"] == "2024-01"
    assert item["oil_bbl"] == 250.0
    assert item["days_on_production"] == 30
    # restated to "not measured": the older versions' gas must not leak through
    assert item["gas_mcf"] is None
    assert item["boe"] == 250.0
    assert item["gor"] is None


async def test_multi_field_split_sums_volumes_not_hours(
    api: httpx.AsyncClient, clickhouse: ClickHouse, unique: str
) -> None:
    well = f"W{unique}"
    await insert(
        clickhouse,
        [
            Row(
                well,
                "2024-03",
                field_code="A",
                days_on_production=31,
                oil_bbl=600.0,
                water_bbl=200.0,
            ),
            Row(
                well,
                "2024-03",
                field_code="B",
                days_on_production=31,
                oil_bbl=200.0,
                water_bbl=None,
            ),
            Row(
                well, "2024-04", field_code="A", days_on_production=10, oil_bbl=50.0, water_bbl=50.0
            ),
            Row(
                well, "2024-04", field_code="B", days_on_production=30, oil_bbl=50.0, water_bbl=50.0
            ),
        ],
    )
    march, april = await series(api, well)
    assert (march["oil_bbl"], march["water_bbl"], march["days_on_production"]) == (800.0, 200.0, 31)
    assert march["water_cut"] == pytest.approx(0.2)
    assert (april["oil_bbl"], april["days_on_production"]) == (100.0, 30)
    year = await series(api, well, "granularity=year")
    assert year == [
        {
            "period": "2024",
            "days_on_production": 61.0,
            "oil_bbl": 900.0,
            "gas_mcf": None,
            "water_bbl": 300.0,
            "liquids_bbl": None,
            "boe": 900.0,
            "water_cut": 0.25,
            "gor": None,
            # 2024 has 366 days; its producing days are summed over the months
            "oil_rate_cd": 900.0 / 366,
            "oil_rate_pd": 900.0 / 61,
            "gas_rate_cd": None,
            "gas_rate_pd": None,
            "water_rate_cd": 300.0 / 366,
            "water_rate_pd": 300.0 / 61,
        }
    ]


async def test_daily_records_roll_up_by_granularity(
    api: httpx.AsyncClient, clickhouse: ClickHouse, unique: str
) -> None:
    well = f"W{unique}"
    days: list[tuple[str, float | None, float | None]] = [
        ("2023-12-31", 10.0, None),
        ("2024-01-01", 20.0, 3.0),
        ("2024-01-02", 30.0, None),
        ("2024-02-01", None, None),
    ]
    await insert(
        clickhouse,
        [Row(well, d, days_on_production=1, oil_bbl=oil, water_bbl=w) for d, oil, w in days],
    )
    daily = await series(api, well, "granularity=day")
    assert [i["period"] for i in daily] == ["2023-12-31", "2024-01-01", "2024-01-02", "2024-02-01"]
    assert daily[3]["oil_bbl"] is None
    monthly = await series(api, well, "granularity=month&from=2024-01&to=2024-02")
    assert [(i["period"], i["oil_bbl"], i["water_bbl"]) for i in monthly] == [
        ("2024-01", 50.0, 3.0),
        ("2024-02", None, None),
    ]
    assert monthly[0]["days_on_production"] == 2
    assert monthly[0]["water_cut"] == pytest.approx(3.0 / 53.0)
    yearly = await series(api, well, "granularity=year")
    assert [(i["period"], i["oil_bbl"]) for i in yearly] == [("2023", 10.0), ("2024", 50.0)]
    only_day = await series(api, well, "granularity=day&from=2024-01-02&to=2024-01-02")
    assert [i["period"] for i in only_day] == ["2024-01-02"]


async def test_cursor_walks_every_page_once(
    api: httpx.AsyncClient, clickhouse: ClickHouse, unique: str
) -> None:
    well = f"W{unique}"
    months = [f"2022-{m:02d}" for m in range(1, 8)]
    await insert(clickhouse, [Row(well, m, oil_bbl=float(i)) for i, m in enumerate(months)])
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = (await api.get(f"/api/v1/wells/{well}/production?{query}")).json()
        seen += [i["period"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == months


async def test_unknown_well_is_404(api: httpx.AsyncClient, unique: str) -> None:
    response = await api.get(f"/api/v1/wells/none-{unique}/production")
    assert response.status_code == 404
    assert response.json()["error_code"] == "not_found"


async def test_stats_count_current_records_once(
    api: httpx.AsyncClient, clickhouse: ClickHouse, unique: str
) -> None:
    before = (await api.get("/api/v1/stats")).json()
    well = f"W{unique}"
    await insert(
        clickhouse,
        [
            Row(well, "1901-01", field_code=f"F{unique}", version=1, oil_bbl=1.0),
            Row(well, "1901-01", field_code=f"F{unique}", version=2, oil_bbl=2.0),
            Row(well, "1901-02", field_code=f"F{unique}", oil_bbl=3.0),
        ],
    )
    await clickhouse.insert(
        "dead_letters",
        [[f"dl-{unique}"], ["validator"], ["[]"], [0], [0]],
        ["id", "stage", "errors", "kafka_partition", "kafka_offset"],
    )
    after = (await api.get("/api/v1/stats")).json()
    assert after["records"] - before["records"] == 2
    assert after["wells"] - before["wells"] == 1
    assert after["fields"] - before["fields"] == 1
    assert after["dead_letters"] - before["dead_letters"] == 1
    assert after["period_range"]["first"] == "1901-01-01"
    assert after["last_ingest_at"] is not None


async def test_ready_checks_clickhouse(api: httpx.AsyncClient) -> None:
    response = await api.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["clickhouse"] == "ok"


async def test_a_read_beyond_the_row_limit_is_422_telling_how_to_narrow_it(
    clickhouse: ClickHouse, settings_env: dict[str, str], unique: str
) -> None:
    """Found by the fuzzer: the engine's ``max_result_rows`` (``result_overflow_mode =
    throw``) answered 500; it is the caller's query that is too wide."""
    well = f"W{unique}"
    days = [f"2024-01-{day:02d}" for day in range(1, 11)]
    await insert(clickhouse, [Row(well, day, oil_bbl=1.0) for day in days])
    async with serve(settings(query_max_result_rows=3)) as api:
        response = await api.get(f"/api/v1/wells/{well}/production?granularity=day")
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error_code"] == "result_too_large"
    assert "narrow" in body["message"]
    assert "/api/v1/export" in body["message"]
    assert set(body) == {"error_code", "message", "details", "request_id", "timestamp"}
