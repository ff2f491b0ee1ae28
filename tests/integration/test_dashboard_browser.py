"""The dashboard in headless Chromium against a real gateway (and ingestor) with real
rows in ClickHouse: sign-in, every page, the charts' values against the API's, no
console errors, keyboard use and labels. Each page leaves a screenshot in
``.cache/screenshots``."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from runtime.clickhouse import ClickHouse
from tests.conftest import Infra
from tests.integration import dashboard_support as ds
from tests.integration.dashboard_support import OPS_KEY, READ_ONLY_KEY, Site, opened, screenshot
from wellstream.bench.dashboard import chromium, ready

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def site(infra: Infra, clickhouse: ClickHouse) -> AsyncIterator[Site]:
    async with ds.site(infra, clickhouse, uuid.uuid4().hex[:8]) as found:
        yield found


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    async with chromium() as found:
        yield found


async def test_sign_in_keeps_the_key_for_the_session_only(site: Site, browser: Any) -> None:
    async with opened(browser, None, refused=(401,)) as (page, _):
        await page.goto(f"{site.url}/ui/")
        await ready(page, "sign-in")
        await screenshot(page, "sign-in")
        assert await page.get_by_label("API key or bearer token").count() == 1
        assert not await page.get_by_role("navigation", name="Pages").is_visible()
        await page.fill("input[name=api_key]", "not-a-key-at-all-0000")
        await page.click("button[type=submit]")
        await ready(page, "sign-in")
        assert "Sign-in needed" in await page.inner_text("#sign-in-message")
        await page.fill("input[name=api_key]", OPS_KEY)
        await page.keyboard.press("Enter")
        await ready(page, "overview")
        assert await page.get_by_role("navigation", name="Pages").is_visible()
        storage = await page.evaluate("[sessionStorage.length, localStorage.length]")
        assert storage == [1, 0]
        assert await page.evaluate("document.cookie") == ""


async def test_a_refused_key_leads_back_to_the_sign_in_form(site: Site, browser: Any) -> None:
    async with opened(browser, READ_ONLY_KEY, refused=(403,)) as (page, _):
        await page.goto(f"{site.url}/ui/dead-letters")
        await ready(page, "sign-in")
        assert "may not" in await page.inner_text("#sign-in-message")


async def test_the_overview_shows_the_stats_and_dead_letters_by_reason(
    site: Site, browser: Any
) -> None:
    stats = (await site.api.get("/api/v1/stats")).json()
    reasons = (await site.api.get("/api/v1/stats/dead-letters?days=90")).json()["items"]
    assert {r["error_code"] for r in reasons} >= {"unknown_unit", "missing_field"}
    async with opened(browser, OPS_KEY) as (page, _):
        await page.goto(f"{site.url}/")
        await ready(page, "overview")
        await screenshot(page, "overview")
        text = await page.inner_text("main")
        assert f"{stats['records']:,}" in text
        health = await page.locator("#pipeline-table tbody tr").all_inner_texts()
        assert [row.split("\t")[:2] for row in health] == [["ingestor", "ready"]]
        chart = await ds.chart_data(page, "deadLetters")
    # one point a day over the 90 days, a day without dead letters at 0; the stack's top
    # is every letter of the day, whatever its reason
    assert len(chart["x"]) in (91, 92)
    tops = {
        x: max(chart[code][i] for code in chart if code != "x") for i, x in enumerate(chart["x"])
    }
    for day in {r["day"] for r in reasons}:
        assert tops.pop(ds.month_seconds(day)) == sum(
            r["count"] for r in reasons if r["day"] == day
        )
    assert set(tops.values()) == {0}


async def test_the_wells_list_searches_filters_and_sorts(site: Site, browser: Any) -> None:
    prefix = site.well.split("-")[0]  # the three wells' codes as stored
    listed = (await site.api.get(f"/api/v1/wells?q={prefix}")).json()["items"]
    assert len(listed) == 3
    async with opened(browser, OPS_KEY) as (page, _):
        await page.goto(f"{site.url}/ui/wells")
        await ready(page, "wells")
        await page.get_by_label("Search").fill(prefix)
        await page.get_by_label("Operator").fill("Ops Co")
        await page.get_by_role("button", name="Find").click()
        await page.wait_for_url(f"**/ui/wells?q={prefix}&operator=Ops+Co")
        await ready(page, "wells")
        codes = await page.locator("#wells-table tbody tr td:first-child").all_inner_texts()
        assert codes == [w["well_code"] for w in listed]
        await page.get_by_role("link", name="Name").click()
        await page.get_by_role("link", name="Name ▲").click()
        await page.wait_for_url("**&sort=well_name&order=desc")
        await ready(page, "wells")
        names = await page.locator("#wells-table tbody tr td:nth-child(2)").all_inner_texts()
        assert names == sorted((w["well_name"] for w in listed), reverse=True)
        # the server orders the whole list: the page shows its first page in that order
        path = f"/api/v1/wells?q={prefix}&operator=Ops+Co&sort=well_name&order=desc"
        ordered = (await site.api.get(path)).json()["items"]
        assert names == [w["well_name"] for w in ordered]
        caption = await page.inner_text("#wells-table caption")
        assert caption == "3 wells on this page; the whole list ordered by name"
        await screenshot(page, "wells")


async def test_the_dead_letters_page_replays_after_a_confirmation(site: Site, browser: Any) -> None:
    code = "missing_field"
    listed = (await site.api.get(f"/api/v1/dead-letters?error_code={code}")).json()["items"]
    ours = next(item for item in listed if item["id"] == f"dl{site.token}2")
    async with opened(browser, OPS_KEY) as (page, _):
        await page.goto(f"{site.url}/ui/dead-letters?error_code={code}")
        await ready(page, "dead-letters")
        rows = page.locator("#dead-letters-table tbody tr")
        assert await rows.count() == len(listed)
        await page.get_by_label(f"Replay {ours['id']}").check()
        await page.click("#replay")
        await screenshot(page, "dead-letters")
        await page.get_by_role("button", name="Cancel").click()
        assert await page.inner_text("#replay-status") == ""
        await page.click("#replay")
        await page.click("#confirm-replay-button")
        await page.wait_for_function("() => document.querySelector('#replay-status').textContent")
        assert await page.inner_text("#replay-status") == "Replayed 1; missing 0."


async def test_an_upload_shows_its_progress_and_each_lines_outcome(
    site: Site, browser: Any, tmp_path: Any
) -> None:
    csv = tmp_path / "production.csv"
    good = f"UP{site.token},2024-01,1.5"
    csv.write_text(f"well_code,production_period,oil_production_kbd\n{good}\n,2024-02,2\n{good}\n")
    async with opened(browser, OPS_KEY) as (page, _):
        await page.goto(f"{site.url}/ui/upload")
        await ready(page, "upload")
        await page.set_input_files("#file", str(csv))
        await page.wait_for_selector("#upload-summary", timeout=30_000)
        await screenshot(page, "upload")
        assert await page.get_attribute("#upload-progress", "value") == "100"
        summary = await page.inner_text("#upload-summary")
        assert "production.csv: done. 2 accepted, 1 rejected." in summary
        lines = await page.locator("#rejected-lines tbody td:first-child").all_inner_texts()
        assert lines == ["3"]
        (why,) = await page.locator("#rejected-lines tbody td:nth-child(2)").all_inner_texts()
        assert why.startswith("well_code: "), why  # the reason its dead letter carries


async def test_a_file_dropped_on_the_page_is_uploaded(site: Site, browser: Any) -> None:
    async with opened(browser, OPS_KEY) as (page, _):
        await page.goto(f"{site.url}/ui/upload")
        await ready(page, "upload")
        await page.evaluate(
            """token => {
                const data = new DataTransfer();
                const head = "well_code,production_period,oil_production_kbd";
                const text = `${head}\\nDR${token},2024-01,1\\n`;
                data.items.add(new File([text], "dropped.csv", {type: "text/csv"}));
                document.querySelector("#drop-zone").dispatchEvent(
                    new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
            }""",
            site.token,
        )
        await page.wait_for_selector("#upload-summary", timeout=30_000)
        assert "dropped.csv: done. 1 accepted, 0 rejected." in await page.inner_text(
            "#upload-summary"
        )


async def test_keyboard_reaches_every_page_and_controls_are_labelled(
    site: Site, browser: Any
) -> None:
    async with opened(browser, OPS_KEY) as (page, _):
        await page.goto(f"{site.url}/ui/")
        await ready(page, "overview")
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.textContent") == "Skip to content"
        reached = []
        for _ in range(6):
            await page.keyboard.press("Tab")
            reached.append(await page.evaluate("document.activeElement.textContent"))
        assert reached[:6] == [
            "wellstream",
            "Overview",
            "Wells",
            "Dead letters",
            "Upload",
            "Sign out",
        ]
        await page.keyboard.press("Shift+Tab")  # back from "Sign out" to "Upload"
        await page.keyboard.press("Enter")
        await ready(page, "upload")
        assert page.url.endswith("/ui/upload")
        for path, name in [("/ui/wells", "wells"), ("/ui/dead-letters", "dead-letters"),
                           ("/ui/upload", "upload"), ("/ui/", "overview")]:  # fmt: skip
            await page.goto(f"{site.url}{path}")
            await ready(page, name)
            unlabelled = await page.evaluate(
                """[...document.querySelectorAll('input, select, button')].filter(el =>
                    !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                    && !el.textContent.trim()).map(el => el.outerHTML)"""
            )
            assert unlabelled == [], path
            charts = await page.evaluate(
                "[...document.querySelectorAll('figure.chart')]"
                ".map(f => f.getAttribute('aria-label'))"
            )
            assert all(charts), path
            assert await page.evaluate("document.documentElement.lang") == "en"


async def test_a_well_page_charts_the_apis_rates_cumulatives_ratios_and_decline(
    site: Site, browser: Any
) -> None:
    base = f"/api/v1/wells/{site.well}"
    series = await site.api.get(f"{base}/production?granularity=month&cumulative=true&limit=1000")
    items = series.json()["items"]
    fit = (await site.api.get(f"{base}/decline?stream=oil&model=auto")).json()
    records = (await site.api.get(f"{base}/records")).json()["items"]
    x = [ds.month_seconds(i["period"]) for i in items]

    def column(key: str) -> list[Any]:
        return [i[key] for i in items]

    async with opened(browser, OPS_KEY) as (page, _):
        await page.goto(f"{site.url}/ui/wells/{site.well}")
        await ready(page, "well")
        await screenshot(page, "well")
        rates = await ds.chart_data(page, "rates")
        assert rates == {
            "x": x,
            "Oil (bbl/d)": column("oil_rate_cd"),
            "Gas (Mcf/d)": column("gas_rate_cd"),
            "Water (bbl/d)": column("water_rate_cd"),
        }
        assert await ds.chart_data(page, "cumulative") == {
            "x": x,
            "Oil (bbl)": column("cum_oil_bbl"),
            "Water (bbl)": column("cum_water_bbl"),
            "Gas (Mcf)": column("cum_gas_mcf"),
        }
        assert await ds.chart_data(page, "ratios") == {
            "x": x,
            "Water cut": column("water_cut"),
            "GOR (scf/bbl)": column("gor"),
        }
        decline = await ds.chart_data(page, "decline")
        forecast = decline[f"Forecast ({fit['rate_unit']})"]
        assert [v for v in forecast if v is not None] == [f["rate"] for f in fit["forecast"]]
        assert f"{fit['model']}" in await page.inner_text("#decline")
        # producing-day rates on a log scale, kept in the address
        await page.get_by_label("Rate basis").select_option("producing")
        await page.get_by_label("Scale").select_option("log")
        assert page.url.endswith("?rate=producing&scale=log")
        producing = await ds.chart_data(page, "rates")
        positive = [v if v is not None and v > 0 else None for v in column("oil_rate_pd")]
        assert producing["Oil (bbl/d)"] == positive
        await page.reload()
        await ready(page, "well")
        assert await ds.chart_data(page, "rates") == producing
        rows = page.locator("#records-table tbody tr")
        assert await rows.count() == len(records)
        restated = [r for r in records if len(r["versions"]) > 1]
        assert len(restated) == 1
        row = rows.filter(has_text=restated[0]["period"])
        assert "2 versions" in await row.inner_text()
        flagged = await page.locator("#records-table .flag").all_inner_texts()
        assert flagged == [f for r in records for f in r["flags"]]


async def test_a_field_page_stacks_its_wells_and_draws_the_type_curve_fan(
    site: Site, browser: Any
) -> None:
    base = f"/api/v1/fields/{site.field}"
    split = (await site.api.get(f"{base}/contributions?stream=oil&top=10")).json()
    curves = (await site.api.get(f"/api/v1/type-curves?stream=oil&field_code={site.field}")).json()
    production = (await site.api.get(f"{base}/production?limit=1000")).json()["items"]
    async with opened(browser, OPS_KEY) as (page, _):
        await page.goto(f"{site.url}/ui/fields/{site.field}")
        await ready(page, "field")
        await screenshot(page, "field")
        assert await ds.chart_data(page, "production") == {
            "x": [ds.month_seconds(i["period"]) for i in production],
            "Oil (bbl)": [i["oil_bbl"] for i in production],
            "Water (bbl)": [i["water_bbl"] for i in production],
            "Gas (Mcf)": [i["gas_mcf"] for i in production],
        }
        stacked = await ds.chart_data(page, "contributions")
        assert stacked["x"] == [ds.month_seconds(p) for p in split["periods"]]
        # each well's band is its top less the top of the well below it
        below = [0.0] * len(split["periods"])
        for series in split["series"]:
            top = stacked[series["well_code"]]
            values = [v or 0.0 for v in series["values"]]
            assert [t - b for t, b in zip(top, below, strict=True)] == pytest.approx(values)
            below = top
        fan = await ds.chart_data(page, "typeCurve")
        assert fan == {
            "x": [i["month"] for i in curves["items"]],
            **{k.upper(): [i[k] for i in curves["items"]] for k in ("p10", "p50", "p90")},
            "Mean": [i["mean"] for i in curves["items"]],
        }
        assert len(split["series"]) == 3  # three wells, none summed as "others"
