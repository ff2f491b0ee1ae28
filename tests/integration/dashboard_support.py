"""The dashboard's browser tests: a real gateway (and an ingestor, for uploads) under
uvicorn on loopback against the test stack, rows of their own in ClickHouse, and
headless Chromium pages that fail a test on any console error."""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from contracts.identifiers import canonical_code
from gateway.app import create_app as gateway_app
from ingestor.app import create_app as ingestor_app
from runtime.clickhouse import ClickHouse
from runtime.settings import ApiKey
from tests import fuzzing
from tests.conftest import Infra
from tests.integration import ingestor_support
from tests.integration.gateway_support import Row, add_dead_letter, insert, settings
from wellstream.bench.dashboard import signed_in

SCREENSHOTS = Path(__file__).resolve().parents[2] / ".cache" / "screenshots"
#: Reads, ingests and administers: the key an operator signs in with.
OPS_KEY = "dashboard-ops-key-0123456789"
READ_ONLY_KEY = "dashboard-read-key-0123456789"


@dataclass(frozen=True)
class Site:
    url: str
    api: httpx.AsyncClient  # the same gateway, with the operator's key
    well: str
    field: str
    token: str


def _month(n: int) -> str:
    return f"{2021 + n // 12}-{n % 12 + 1:02d}"


def rows(token: str) -> list[Row]:
    """A field of three declining wells; the first restated once and flagged twice."""
    field, made = f"DBF{token}", []
    for w, months in enumerate((36, 24, 18)):
        well = f"DB{token}-{'ABC'[w]}"
        for n in range(months):
            oil = round(3000 * math.exp(-n / (20 + 5 * w)), 1)
            made.append(
                Row(well, _month(n), field_code=field, days_on_production=28.0 - n % 3,
                    oil_bbl=oil, gas_mcf=round(oil * 1.4, 1), water_bbl=100.0 + 20 * n,
                    well_name=f"Bravo {w}", field_name="Dashboard field", operator="Ops Co",
                    basin="North", flags=["dop_over_period"] if (w, n) in ((0, 3), (0, 9)) else [])
            )  # fmt: skip
    made.append(Row(f"DB{token}-A", _month(5), field_code=field, version=2, oil_bbl=2000.0,
                    gas_mcf=2800.0, water_bbl=200.0, days_on_production=27.0,
                    well_name="Bravo 0", operator="Ops Co", basin="North"))  # fmt: skip
    return made


def keys() -> list[ApiKey]:
    scopes: Any = ["read", "ingest", "admin"]
    return [
        ApiKey(name="dashboard-ops", key=SecretStr(OPS_KEY), scopes=scopes),
        ApiKey(name="dashboard-reader", key=SecretStr(READ_ONLY_KEY), scopes=["read"]),
    ]


@contextlib.contextmanager
def services(infra: Infra, token: str) -> Iterator[tuple[str, str]]:
    """The ingestor and the gateway (passing uploads to it, checking its health)."""
    stack = {
        "kafka_bootstrap_servers": infra.kafka,
        "redis_url": infra.redis,
        "clickhouse_url": infra.clickhouse,
        "topic_raw": f"test.{token}.raw",
        "topic_dlq": f"test.{token}.dlq",
        "api_keys": keys(),
        "log_json": False,
    }
    with fuzzing.served(ingestor_app(ingestor_support.settings(**stack))) as ingestor:
        gateway = settings(
            **stack, ingestor_url=ingestor, dashboard_services={"ingestor": ingestor}
        )
        with fuzzing.served(gateway_app(gateway)) as url:
            yield url, ingestor


@contextlib.asynccontextmanager
async def site(infra: Infra, ch: ClickHouse, token: str) -> AsyncIterator[Site]:
    await insert(ch, rows(token))
    now = datetime.now(UTC)
    for n, code in enumerate(["unknown_unit", "unknown_unit", "missing_field"]):
        await add_dead_letter(ch, f"dl{token}{n}", f'{{"well_code": "DL{token}{n}"}}', code, now)
    with services(infra, token) as (url, _ingestor):
        async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": OPS_KEY}) as api:
            well, field = canonical_code(f"DB{token}-A"), canonical_code(f"DBF{token}")
            yield Site(url, api, well=well, field=field, token=token)


class Console:
    """Errors a page logged or threw; none may happen."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", self._message)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _message(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} at {message.location}")


@contextlib.asynccontextmanager
async def opened(
    browser: Any, key: str | None, refused: tuple[int, ...] = ()
) -> AsyncIterator[tuple[Any, Console]]:
    """A page of a fresh context, signed in with ``key`` (or not); its console checked
    when the test is done with it. Chromium logs each refused request as an error:
    ``refused`` names the statuses the test provokes on purpose."""
    if key is None:
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
    else:
        context = await signed_in(browser, key, viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    console = Console(page)
    try:
        yield page, console
        expected = tuple(f"the server responded with a status of {s} " for s in refused)
        assert [e for e in console.errors if not any(x in e for x in expected)] == []
    finally:
        await context.close()


async def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def chart_data(page: Any, name: str) -> dict[str, list[Any]]:
    """The values the named chart holds, by series label (the x values under "x")."""
    found: dict[str, list[Any]] = await page.evaluate(
        """name => {
            const plot = window.wellstream.charts[name];
            const out = {x: Array.from(plot.data[0])};
            plot.series.slice(1).forEach((s, i) => {
                out[s.label] = Array.from(plot.data[i + 1]);
            });
            return out;
        }""",
        name,
    )
    return found


def month_seconds(period: str) -> float:
    year, month, *day = (int(p) for p in period.split("-"))
    return datetime(year, month, day[0] if day else 1, tzinfo=UTC).timestamp()
