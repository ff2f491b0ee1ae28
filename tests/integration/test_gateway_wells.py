"""Wells list/search/detail and fields against the real engine."""

from typing import Any

import httpx
import pytest

from contracts.identifiers import canonical_code
from runtime.clickhouse import ClickHouse
from tests.integration.gateway_support import Row, insert

pytestmark = pytest.mark.integration


async def get(api: httpx.AsyncClient, url: str) -> Any:
    response = await api.get(url)
    assert response.status_code == 200, response.text
    return response.json()


async def test_search_by_name_and_field(
    api: httpx.AsyncClient, clickhouse: ClickHouse, unique: str
) -> None:
    field = f"F{unique}"
    await insert(
        clickhouse,
        [
            Row(f"{unique}-A", "2024-01", field_code=field, well_name=f"Alpha {unique}"),
            Row(f"{unique}-B", "2024-01", field_code=field, well_name="Bravo"),
            Row(f"{unique}-B", "2024-02", field_code="OTHER", well_name="Bravo"),
            Row(f"{unique}-C", "2024-01", field_code="OTHER", well_name="Charlie"),
        ],
    )
    a, b = canonical_code(f"{unique}-A"), canonical_code(f"{unique}-B")
    # a filter in another case or spacing finds the canonical field all the same
    by_field = await get(api, f"/api/v1/wells?field_code={field.lower()}")
    assert [w["well_code"] for w in by_field["items"]] == [a, b]
    assert by_field["items"][1]["field_codes"] == sorted(["OTHER", canonical_code(field)])
    by_name = await get(api, f"/api/v1/wells?q=alpha%20{unique}")
    assert [w["well_code"] for w in by_name["items"]] == [a]
    by_code = await get(api, f"/api/v1/wells?q={canonical_code(unique).lower()}-c")
    assert [w["well_name"] for w in by_code["items"]] == ["Charlie"]


async def test_pages_stay_stable_while_wells_are_inserted(
    api: httpx.AsyncClient, clickhouse: ClickHouse, unique: str
) -> None:
    field = f"F{unique}"
    codes = sorted(canonical_code(f"{unique}-{i:02d}") for i in range(0, 20, 2))
    await insert(clickhouse, [Row(c, "2024-01", field_code=field) for c in codes])
    seen: list[str] = []
    cursor = None
    for round_ in range(20):
        query = f"/api/v1/wells?field_code={field}&limit=3"
        page = await get(api, query + (f"&cursor={cursor}" if cursor else ""))
        seen += [w["well_code"] for w in page["items"]]
        # new wells land before and after the cursor between pages
        await insert(clickhouse, [Row(f"{unique}-{round_:02d}x", "2024-01", field_code=field)])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    originals = [c for c in seen if not c.endswith("X")]
    assert originals == codes
    assert len(seen) == len(set(seen))
    assert seen == sorted(seen)


async def test_one_well_has_latest_and_cumulative(
    api: httpx.AsyncClient, clickhouse: ClickHouse, unique: str
) -> None:
    well = f"W{unique}"
    await insert(
        clickhouse,
        [
            Row(
                well, "2024-01", field_code="A", days_on_production=31, oil_bbl=100.0, gas_mcf=60.0
            ),
            Row(well, "2024-02", field_code="A", days_on_production=20, oil_bbl=50.0, gas_mcf=None),
            Row(well, "2024-02", field_code="B", days_on_production=20, oil_bbl=30.0, gas_mcf=None),
            Row(well, "2024-02", field_code="B", version=2, days_on_production=20, oil_bbl=40.0),
        ],
    )
    body = await get(api, f"/api/v1/wells/{well}")
    assert body["field_codes"] == ["A", "B"]
    assert body["latest"]["period"] == "2024-02"
    assert (body["latest"]["oil_bbl"], body["latest"]["days_on_production"]) == (90.0, 20)
    assert body["cumulative"]["oil_bbl"] == 190.0
    assert body["cumulative"]["gas_mcf"] == 60.0
    assert body["cumulative"]["days_on_production"] == 51
    assert body["cumulative"]["gor"] == pytest.approx(60_000 / 190)
    assert body["units"]["gas_mcf"] == "Mcf"


async def test_each_share_goes_to_its_own_field(
    api: httpx.AsyncClient, clickhouse: ClickHouse, unique: str
) -> None:
    a, b = f"A{unique}", f"B{unique}"
    await insert(
        clickhouse,
        [
            Row(f"W1{unique}", "2024-03", field_code=a, days_on_production=31, oil_bbl=600.0),
            Row(f"W1{unique}", "2024-03", field_code=b, days_on_production=31, oil_bbl=200.0),
            Row(f"W2{unique}", "2024-03", field_code=a, days_on_production=10, oil_bbl=None),
        ],
    )
    (field_a,) = (await get(api, f"/api/v1/fields/{a}/production"))["items"]
    (field_b,) = (await get(api, f"/api/v1/fields/{b}/production"))["items"]
    assert (field_a["oil_bbl"], field_a["days_on_production"]) == (600.0, 41)
    assert (field_b["oil_bbl"], field_b["days_on_production"]) == (200.0, 31)
    detail = await get(api, f"/api/v1/fields/{a}")
    assert (detail["wells"], detail["cumulative"]["oil_bbl"]) == (2, 600.0)


@pytest.mark.parametrize("slash", ["/", "%2F"], ids=["slash", "encoded"])
async def test_codes_with_a_slash_are_addressable(
    api: httpx.AsyncClient, clickhouse: ClickHouse, unique: str, slash: str
) -> None:
    # Norwegian wells are named like 15/9-F-12, and their fields may be too.
    well, field = f"15/9-F-{unique}", f"NO/{unique}"
    await insert(clickhouse, [Row(well, "2024-03", field_code=field, oil_bbl=120.0)])
    well_path, field_path = (code.replace("/", slash) for code in (well, field))

    assert (await get(api, f"/api/v1/wells/{well_path}"))["well_code"] == canonical_code(well)
    (month,) = (await get(api, f"/api/v1/wells/{well_path}/production"))["items"]
    assert month["oil_bbl"] == 120.0
    assert (await get(api, f"/api/v1/fields/{field_path}"))["wells"] == 1
    (month,) = (await get(api, f"/api/v1/fields/{field_path}/production"))["items"]
    assert month["oil_bbl"] == 120.0


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/v1/wells/{u}", id="well"),
        pytest.param("/api/v1/fields/{u}", id="field"),
        pytest.param("/api/v1/fields/{u}/production", id="field-series"),
    ],
)
async def test_unknown_is_404(api: httpx.AsyncClient, unique: str, path: str) -> None:
    response = await api.get(path.format(u=f"none-{unique}"))
    assert response.status_code == 404
    assert response.json()["error_code"] == "not_found"


async def test_every_page_of_a_sorted_list_keeps_the_whole_lists_order(
    api: httpx.AsyncClient, clickhouse: ClickHouse, unique: str
) -> None:
    field = f"F{unique}"
    # (name, operator, months): names and operators tie or are missing, periods overlap
    wells = {
        "A": ("Echo", "Zeta Oil", ["2020-03", "2021-01"]),
        "B": (None, "Acme", ["2019-05"]),
        "C": ("Alpha", None, ["2020-03", "2024-12"]),
        "D": ("Echo", "Acme", ["2018-01", "2019-05"]),
        "E": ("bravo", "Zeta Oil", ["2022-07"]),
        "F": (None, None, ["2020-03"]),
        "G": ("Alpha", "Acme", ["2021-01", "2023-02"]),
    }
    rows = [
        Row(f"{unique}-{w}", month, field_code=field, well_name=name, operator=operator)
        for w, (name, operator, months) in wells.items()
        for month in months
    ]
    await insert(clickhouse, rows)
    listed = (await get(api, f"/api/v1/wells?field_code={field}&limit=50"))["items"]
    assert len(listed) == len(wells)
    for sort in ("well_code", "well_name", "operator", "well_status", "first_period",
                 "last_period"):  # fmt: skip
        for order in ("asc", "desc"):
            expected = sorted(
                listed, key=lambda w: (w[sort] or "", w["well_code"]), reverse=order == "desc"
            )
            seen: list[str] = []
            cursor = None
            while True:
                query = f"/api/v1/wells?field_code={field}&limit=2&sort={sort}&order={order}"
                page = await get(api, query + (f"&cursor={cursor}" if cursor else ""))
                seen += [w["well_code"] for w in page["items"]]
                if (cursor := page["next_cursor"]) is None:
                    break
                assert len(seen) < len(wells)
            assert seen == [w["well_code"] for w in expected], (sort, order)
    # a cursor serves only the order it was made in; a forged one is refused
    first = await get(api, f"/api/v1/wells?field_code={field}&limit=2&sort=last_period")
    for query in (
        f"sort=first_period&cursor={first['next_cursor']}",
        f"sort=last_period&order=desc&cursor={first['next_cursor']}",
        f"sort=last_period&cursor={cursor_of(['last_period', 'asc', 'not a date', 'W'])}",
        "sort=depth",
    ):
        refused = await api.get(f"/api/v1/wells?field_code={field}&{query}")
        assert refused.status_code == 422, query
        assert refused.json()["details"][0]["field"] in ("query.cursor", "query.sort"), query


def cursor_of(key: list[Any]) -> str:
    from gateway import cursor

    return cursor.encode(key)
