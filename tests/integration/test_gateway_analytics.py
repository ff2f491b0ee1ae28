"""Analytics against the real ClickHouse engine and Redis: rates and cumulatives, decline
curves of synthetic wells, type curves against numpy, rankings, their caching."""

import random
from typing import Any

import httpx
import numpy as np
import pytest

from contracts.identifiers import canonical_code
from gateway.forecast import Options
from runtime import generations
from runtime import redis as redis_client
from runtime.clickhouse import ClickHouse
from tests.integration.gateway_support import Row, insert
from tests.unit.gateway.test_decline import TRUTH, synthetic, true_eur

pytestmark = pytest.mark.integration


async def get(api: httpx.AsyncClient, url: str, status: int = 200) -> Any:
    response = await api.get(url)
    assert response.status_code == status, response.text
    return response.json()


async def test_rates_and_cumulatives_count_from_the_first_period(
    api: httpx.AsyncClient, clickhouse: ClickHouse, unique: str
) -> None:
    well = f"W{unique}"
    rows = [
        Row(well, "2023-01", days_on_production=31, oil_bbl=310.0, gas_mcf=62.0, water_bbl=1.0),
        Row(well, "2023-02", days_on_production=14, oil_bbl=280.0, gas_mcf=None, water_bbl=2.0),
        Row(well, "2023-03", days_on_production=0, oil_bbl=31.0, gas_mcf=31.0, water_bbl=-3.0),
        Row(well, "2023-03", version=2, days_on_production=0, oil_bbl=62.0, gas_mcf=31.0),
        Row(well, "2023-04", days_on_production=30, oil_bbl=90.0, gas_mcf=30.0, water_bbl=4.0),
    ]
    await insert(clickhouse, rows)
    body = await get(api, f"/api/v1/wells/{well}/production?from=2023-03&cumulative=true")
    march, april = body["items"]
    assert (march["period"], march["oil_rate_cd"], march["oil_rate_pd"]) == ("2023-03", 2.0, None)
    assert march["gas_rate_cd"] == 1.0
    assert march["water_rate_cd"] is None  # restated to not measured
    assert (march["cum_oil_bbl"], march["cum_gas_mcf"], march["cum_water_bbl"]) == (652, 93, 3)
    assert (april["oil_rate_cd"], april["oil_rate_pd"], april["gas_rate_pd"]) == (3.0, 3.0, 1.0)
    assert (april["cum_oil_bbl"], april["cum_gas_mcf"], april["cum_water_bbl"]) == (742, 123, 7)
    plain = await get(api, f"/api/v1/wells/{well}/production?from=2023-02&limit=1")
    assert plain["items"][0]["oil_rate_pd"] == 20.0
    assert "cum_oil_bbl" not in plain["items"][0]
    page = await get(api, f"/api/v1/wells/{well}/production?cumulative=true&limit=2")
    rest = await get(
        api,
        f"/api/v1/wells/{well}/production?cumulative=true&limit=2&cursor={page['next_cursor']}",
    )
    assert [i["cum_oil_bbl"] for i in page["items"] + rest["items"]] == [310, 590, 652, 742]


def well_rows(well: str, months: list[Any], **extra: Any) -> list[Row]:
    return [
        Row(well, f"{m.start:%Y-%m}", oil_bbl=m.volume, days_on_production=m.days_on, **extra)
        for m in months
    ]


@pytest.mark.parametrize(
    ("model", "noise", "tolerance"),
    [("hyperbolic", 0.0, 0.02), ("modified_hyperbolic", 0.05, 0.06), ("exponential", 0.05, 0.06)],
)
async def test_decline_recovers_a_synthetic_wells_eur(
    api: httpx.AsyncClient, clickhouse: ClickHouse, unique: str, model: Any, noise: float,
    tolerance: float,
) -> None:  # fmt: skip
    well = f"W{unique}"
    months = synthetic(TRUTH[model], 72, noise)
    stale = [Row(well, r.period, oil_bbl=1e6, version=0) for r in well_rows(well, months)]
    await insert(clickhouse, [*stale, *well_rows(well, months, version=1)])
    body = await get(api, f"/api/v1/wells/{well}/decline?model={model}")
    assert body["eur"] == pytest.approx(true_eur(TRUTH[model], months, Options()), rel=tolerance)
    assert (body["well_code"], body["model"]) == (canonical_code(well), model)
    assert body["rate_unit"] == "bbl/d"
    assert body["fit"]["months"] == 72
    assert body["cumulative_to_date"] == pytest.approx(sum(m.volume or 0 for m in months))
    auto = await get(api, f"/api/v1/wells/{well}/decline?model=auto&stream=oil")
    assert auto["model"] in ("exponential", "harmonic", "hyperbolic", "modified_hyperbolic")


async def test_decline_refuses_too_few_months_and_unknown_wells(
    api: httpx.AsyncClient, clickhouse: ClickHouse, unique: str
) -> None:
    well = f"W{unique}"
    await insert(clickhouse, well_rows(well, synthetic(TRUTH["exponential"], 5)))
    body = await get(api, f"/api/v1/wells/{well}/decline", 422)
    assert "fewer than 6 months" in body["message"]
    await get(api, f"/api/v1/wells/{well}/decline?stream=gas", 422)  # no gas at all
    await get(api, f"/api/v1/wells/N{unique}/decline", 404)
    await get(api, f"/api/v1/wells/{well}/decline?model=cubic", 422)
    await get(api, f"/api/v1/wells/{well}/decline?bogus=1", 400)


def aligned(volumes: dict[str, list[float]], months: int) -> list[list[float]]:
    """Per aligned month, each well's volume: from its first positive month."""
    found: list[list[float]] = [[] for _ in range(months)]
    for series in volumes.values():
        first = next(i for i, v in enumerate(series) if v > 0)
        for k, v in enumerate(series[first : first + months]):
            found[k].append(v)
    return [f for f in found if f]


async def test_type_curve_percentiles_equal_numpys(
    api: httpx.AsyncClient, clickhouse: ClickHouse, unique: str
) -> None:
    rng = random.Random(unique)
    field, volumes, rows = f"F{unique}", {}, []
    for n in range(12):
        well = canonical_code(f"W{unique}-{n}")
        lead = rng.randint(0, 4)  # months before first oil
        series = [0.0] * lead + [round(rng.uniform(-5, 900), 1) for _ in range(rng.randint(3, 9))]
        series[lead] = abs(series[lead]) + 1
        volumes[well] = series
        for k, v in enumerate(series):
            period = f"{2020 + (n + k) // 12}-{(n + k) % 12 + 1:02d}"
            rows.append(Row(well, period, field_code=field, oil_bbl=v, operator=f"O{unique}"))
            rows.append(Row(well, period, field_code=field, oil_bbl=v + 99, version=0))
    await insert(clickhouse, rows)
    body = await get(api, f"/api/v1/type-curves?field_code={field}&months=6")
    assert body["wells"] == 12
    expected = aligned(volumes, 6)
    assert [i["wells"] for i in body["items"]] == [len(v) for v in expected]
    for item, values in zip(body["items"], expected, strict=True):
        p90, p50, p10 = np.percentile(values, [10, 50, 90])
        assert item["p10"] == pytest.approx(p10)  # the high case
        assert item["p50"] == pytest.approx(p50)
        assert item["p90"] == pytest.approx(p90)
        assert item["mean"] == pytest.approx(np.mean(values))
    by_operator = await get(api, f"/api/v1/type-curves?operator=O{unique}&months=6")
    assert by_operator["items"] == body["items"]
    two = ",".join(list(volumes)[:2])
    listed = await get(api, f"/api/v1/type-curves?wells={two}")
    assert listed["wells"] == 2
    await get(api, "/api/v1/type-curves?stream=oil", 422)


async def test_rankings_and_their_cache_follow_new_data(
    api: httpx.AsyncClient, clickhouse: ClickHouse, settings_env: dict[str, str], unique: str
) -> None:
    period = f"{2300 - 1 - int(unique[:4], 16) % 200}-07"  # a month no other test writes
    wells = [f"W{unique}-{n}" for n in range(3)]
    await insert(
        clickhouse,
        [
            Row(wells[0], period, field_code=f"A{unique}", oil_bbl=50.0, operator="X"),
            Row(wells[1], period, field_code=f"A{unique}", oil_bbl=30.0, operator="Y"),
            Row(wells[2], period, field_code=f"B{unique}", oil_bbl=20.0, operator="Y"),
            Row(wells[2], period, field_code=f"B{unique}", oil_bbl=5.0, version=0),
        ],
    )
    url = f"/api/v1/rankings?from={period}&to={period}&limit=2"
    body = await get(api, url)
    assert [(i["rank"], i["code"], i["volume"], i["share"]) for i in body["items"]] == [
        (1, canonical_code(wells[0]), 50.0, 0.5),
        (2, canonical_code(wells[1]), 30.0, 0.3),
    ]
    fields = await get(api, f"{url}&by=field")
    codes = [canonical_code(f"A{unique}"), canonical_code(f"B{unique}")]
    assert [(i["code"], i["share"]) for i in fields["items"]] == [(codes[0], 0.8), (codes[1], 0.2)]
    operators = await get(api, f"{url}&by=operator&stream=boe")
    assert [(i["code"], i["volume"]) for i in operators["items"]] == [("X", 50.0), ("Y", 50.0)]

    cached = await api.get(url)
    assert cached.headers["x-cache"] == "hit"
    restated = Row(wells[2], period, field_code=f"B{unique}", oil_bbl=80.0, version=2)
    await insert(clickhouse, [restated])
    redis = redis_client.connect(settings_env["WELLSTREAM_REDIS_URL"])
    try:
        await generations.bump(redis, wells=[canonical_code(wells[2])])
    finally:
        await redis.aclose()
    fresh = await api.get(url)
    assert fresh.headers["x-cache"] == "miss"
    assert fresh.json()["items"][0]["code"] == canonical_code(wells[2])


async def test_a_cached_decline_follows_new_data_for_its_well(
    api: httpx.AsyncClient, clickhouse: ClickHouse, settings_env: dict[str, str], unique: str
) -> None:
    well = f"W{unique}"
    months = synthetic(TRUTH["exponential"], 24)
    await insert(clickhouse, well_rows(well, months))
    url = f"/api/v1/wells/{well}/decline?model=exponential"
    first = await api.get(url)
    again = await api.get(url)
    assert (first.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit")
    more = synthetic(TRUTH["exponential"], 36)[24:]
    await insert(clickhouse, well_rows(well, more))
    redis = redis_client.connect(settings_env["WELLSTREAM_REDIS_URL"])
    try:
        await generations.bump(redis, wells=[canonical_code(well)])
    finally:
        await redis.aclose()
    fresh = await api.get(url)
    assert fresh.headers["x-cache"] == "miss"
    assert fresh.json()["fit"]["months"] == 36
    assert fresh.json()["cumulative_to_date"] > first.json()["cumulative_to_date"]
