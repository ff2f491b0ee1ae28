"""The dashboard's parts that need no store: metrics read for pipeline health, the page
when it is not built, and uploads when no ingestor is there."""

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from gateway import ui, uploads
from gateway.config import GatewaySettings
from gateway.pipeline import read_metrics
from runtime.errors import install


def test_lag_and_records_are_summed_over_their_series() -> None:
    registry = CollectorRegistry()
    lag = Gauge("wellstream_writer_consumer_lag", "lag", ["topic", "partition"], registry=registry)
    rows = Counter("wellstream_writer_rows_inserted", "rows", ["table"], registry=registry)
    Counter("wellstream_writer_other", "not a record counter", registry=registry).inc(99)
    lag.labels("t", "0").set(3)
    lag.labels("t", "1").set(4)
    rows.labels("production").inc(10)
    rows.labels("dead_letters").inc(2)
    assert read_metrics(generate_latest(registry).decode()) == (7.0, 12.0)


def test_a_service_without_those_metrics_has_none() -> None:
    assert read_metrics("# nothing here\n") == (None, None)


def app_of(*routers: object) -> FastAPI:
    app = FastAPI()
    install(app)
    for router in routers:
        app.include_router(router)  # type: ignore[arg-type]
    return app


async def test_an_unbuilt_dashboard_says_how_to_build_it(tmp_path: Path) -> None:
    app = app_of(ui.build_router(tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        page = await c.get("/ui/wells/W1")
    assert page.status_code == 503
    assert "make install" in page.text


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param(None, "not configured", id="no-ingestor"),
        pytest.param("http://127.0.0.1:1", "unavailable", id="ingestor-away"),
    ],
)
async def test_uploads_answer_503_without_an_ingestor(url: str | None, message: str) -> None:
    settings = GatewaySettings.model_validate({"api_keys": [], "ingestor_url": url})
    app = app_of(uploads.build_router(settings))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        answer = await c.post("/api/v1/uploads", files={"file": ("a.csv", b"well_code\n1\n")})
    assert answer.status_code == 503
    assert message in answer.json()["message"]
    assert answer.headers["retry-after"]
    assert answer.json()["error_code"]  # the shared error shape
