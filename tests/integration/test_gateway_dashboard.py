"""The reads behind the dashboard's pages against the real ClickHouse engine: a well's
records with their versions, a field split by well, dead letters per day and reason,
pipeline health from real services' endpoints, and the pages themselves."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from contracts.identifiers import canonical_code
from gateway import ui
from gateway.app import create_app
from runtime.clickhouse import ClickHouse
from tests import fuzzing
from tests.integration.gateway_support import (
    Row,
    add_dead_letter,
    insert,
    serve,
    settings,
)

pytestmark = pytest.mark.integration


async def test_a_wells_records_carry_every_version_newest_first(
    api: httpx.AsyncClient, clickhouse: ClickHouse, unique: str
) -> None:
    well = f"W{unique}"
    await insert(
        clickhouse,
        [
            Row(well, "2024-01", version=1, oil_bbl=100.0),
            Row(well, "2024-01", version=3, oil_bbl=250.0),
            Row(well, "2024-01", version=3, oil_bbl=250.0),  # a replayed insert: read once
            Row(well, "2024-02", version=1, oil_bbl=90.0, field_code="F2"),
            Row(well, "2024-03", version=1, oil_bbl=80.0),
        ],
    )
    first = await api.get(f"/api/v1/wells/{well}/records?limit=2")
    assert first.status_code == 200, first.text
    page = first.json()
    assert [item["period"] for item in page["items"]] == ["2024-01", "2024-02"]
    versions = page["items"][0]["versions"]
    assert [(v["version"], v["oil_bbl"]) for v in versions] == [(3, 250.0), (1, 100.0)]
    assert page["items"][1]["field_code"] == "F2"
    rest = await api.get(f"/api/v1/wells/{well}/records?limit=2&cursor={page['next_cursor']}")
    assert [item["period"] for item in rest.json()["items"]] == ["2024-03"]
    assert rest.json()["next_cursor"] is None


async def test_wells_are_filtered_by_operator_and_basin(
    api: httpx.AsyncClient, clickhouse: ClickHouse, unique: str
) -> None:
    operator, basin = f"Op {unique}", f"Basin {unique}"
    await insert(
        clickhouse,
        [
            Row(f"{unique}-A", "2024-01", operator=operator, basin=basin),
            Row(f"{unique}-B", "2024-01", operator=operator, basin="elsewhere"),
            Row(f"{unique}-C", "2024-01", operator="another", basin=basin),
        ],
    )

    async def codes(query: str) -> list[str]:
        response = await api.get(f"/api/v1/wells?{query}")
        assert response.status_code == 200, response.text
        return [item["well_code"][-1] for item in response.json()["items"]]

    assert await codes(f"operator={operator}") == ["A", "B"]
    assert await codes(f"basin={basin}") == ["A", "C"]
    # the code as stored: canonical (a leading zero of the token is not kept)
    well = canonical_code(f"{unique}-A")
    assert await codes(f"operator={operator}&basin={basin}&q={well}") == ["A"]


async def test_records_of_an_unknown_well_or_a_bad_cursor_are_refused(
    api: httpx.AsyncClient, unique: str
) -> None:
    assert (await api.get(f"/api/v1/wells/none{unique}/records")).status_code == 404
    bad = await api.get(f"/api/v1/wells/none{unique}/records?cursor=nonsense")
    assert bad.status_code == 422


async def test_a_field_splits_into_its_largest_wells_and_the_rest(
    api: httpx.AsyncClient, clickhouse: ClickHouse, unique: str
) -> None:
    field = f"F{unique}"
    rows = [
        Row(f"W{unique}{n}", period, field_code=field, oil_bbl=float(10 * n + m), gas_mcf=1.0)
        for n in range(1, 5)
        for m, period in enumerate(["2024-01", "2024-02"])
    ]
    # the largest well also reports to another field: only this field's share counts
    rows.append(Row(f"W{unique}4", "2024-02", field_code="ELSEWHERE", oil_bbl=1_000.0))
    await insert(clickhouse, rows)
    response = await api.get(f"/api/v1/fields/{field}/contributions?stream=oil&top=2")
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["periods"] == ["2024-01", "2024-02"]
    assert found["volume_unit"] == "bbl"
    series = [(s["well_code"], s["wells"], s["values"]) for s in found["series"]]
    assert series == [
        (canonical_code(f"W{unique}4"), 1, [40.0, 41.0]),
        (canonical_code(f"W{unique}3"), 1, [30.0, 31.0]),
        (None, 2, [30.0, 32.0]),
    ]
    # the series add up to the field's own series
    totals = (await api.get(f"/api/v1/fields/{field}/production")).json()["items"]
    summed = [sum(s["values"][i] for s in found["series"]) for i in range(2)]
    assert summed == [item["oil_bbl"] for item in totals]
    assert (await api.get(f"/api/v1/fields/x{unique}/contributions")).status_code == 404


async def test_dead_letters_are_counted_per_day_and_code(
    api: httpx.AsyncClient, clickhouse: ClickHouse, unique: str
) -> None:
    now = datetime.now(UTC)
    code = f"code_{unique}"
    await add_dead_letter(clickhouse, f"a{unique}", "{}", code, now - timedelta(days=1))
    await add_dead_letter(clickhouse, f"b{unique}", "{}", code, now - timedelta(days=1))
    await add_dead_letter(clickhouse, f"c{unique}", "{}", code, now)
    await add_dead_letter(clickhouse, f"d{unique}", "{}", code, now - timedelta(days=40))
    response = await api.get("/api/v1/stats/dead-letters?days=30")
    assert response.status_code == 200, response.text
    mine = [(i["day"], i["count"]) for i in response.json()["items"] if i["error_code"] == code]
    days = [(now - timedelta(days=1)).date().isoformat(), now.date().isoformat()]
    assert mine == [(days[0], 2), (days[1], 1)]


async def test_pipeline_health_reads_each_services_readiness_and_metrics(
    clickhouse: ClickHouse, settings_env: dict[str, str]
) -> None:
    # a real gateway is the service checked: its readiness and its metrics endpoint
    with fuzzing.served(create_app(settings())) as checked:
        services = {"gateway": checked, "away": "http://127.0.0.1:1"}
        async with serve(settings(dashboard_services=services)) as api:
            first = (await api.get("/api/v1/pipeline")).json()["services"]
            second = (await api.get("/api/v1/pipeline")).json()["services"]
    by_name = {s["name"]: s for s in first}
    assert by_name["gateway"]["ready"] is True
    assert by_name["gateway"]["status"] == 200
    assert by_name["away"]["ready"] is False
    assert by_name["away"]["error"]
    assert by_name["away"]["status"] is None
    assert [s["name"] for s in second] == ["gateway", "away"]


async def test_the_pages_are_served_at_every_deep_link(api: httpx.AsyncClient) -> None:
    if not (ui.DIST / "index.html").is_file():
        pytest.fail("the dashboard is not built: run `make install`")
    for path in ["/", "/ui/", "/ui/wells/15/9-F-12", "/ui/fields/F1", "/ui/dead-letters"]:
        page = await api.get(path, headers={"X-API-Key": ""})
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in page.headers["content-security-policy"]
    script = await api.get("/ui/assets/app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert (await api.get("/ui/assets/%2E%2E/index.html")).status_code == 404
    assert (await api.get("/ui/assets/missing.js")).status_code == 404
    assert (await api.get("/ui", follow_redirects=False)).headers["location"] == "/ui/"
    # the API is unchanged around them
    assert (await api.get("/api/v1/stats", headers={"X-API-Key": "wrong"})).status_code == 401
