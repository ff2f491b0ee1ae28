"""Kafka going away: during a request the API answers 503 with Retry-After, and never
counts as accepted what the broker did not acknowledge; once the broker is back the
service takes records again. Without Kafka at start-up the service still starts, not
ready, and answers 503. Without Redis it starts ready and takes records; what needs Redis
(upload and import jobs) answers 503, and rate limits follow RATE_LIMIT_FAIL_OPEN."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.integration.ingestor_support import running, settings
from wellstream import infra

pytestmark = pytest.mark.integration

RECORD = b'{"well_code": 3, "production_period": "2024-01"}\n'


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A broker of this test's own, since the test stops and restarts it."""
    port, data = infra.free_port(), tmp_path / "kafka"
    start(port, data)
    try:
        yield port, data
    finally:
        stop(data)


def start(port: int, data: Path) -> None:
    args = ["--port", str(port), "--controller-port", str(infra.free_port())]
    infra.script("kafka.sh", "start", *args, "--data-dir", str(data))


def stop(data: Path) -> None:
    infra.script("kafka.sh", "stop", "--data-dir", str(data))


async def test_broker_outage_during_a_request(
    settings_env: dict[str, str], own_broker: tuple[int, Path]
) -> None:
    port, data = own_broker
    servers = f"127.0.0.1:{port}"
    app_settings = settings(
        kafka_bootstrap_servers=servers, publish_timeout_seconds=2, retry_after_seconds=7
    )

    async def body() -> AsyncIterator[bytes]:
        yield RECORD * 100
        await asyncio.to_thread(stop, data)  # the broker dies mid-body
        for _ in range(10):
            yield RECORD * 100

    async with running(app_settings) as client:
        before = await client.post("/api/v1/records", content=RECORD * 10)
        during = await client.post(
            "/api/v1/records", content=body(), headers={"Content-Type": "application/x-ndjson"}
        )
        ready = await client.get("/health/ready")
        await asyncio.to_thread(start, port, data)
        after = await client.post("/api/v1/records", content=RECORD * 10)
    assert before.status_code == 202
    assert during.status_code == 503
    assert during.headers["Retry-After"] == "7"
    assert during.json()["error_code"] == "unavailable"
    assert "accepted" not in during.json()
    assert ready.status_code == 503
    assert (after.status_code, after.json()["accepted"]) == (202, 10)


async def test_service_starts_without_kafka_and_answers_503(settings_env: dict[str, str]) -> None:
    dead = f"127.0.0.1:{infra.free_port()}"
    async with running(settings(kafka_bootstrap_servers=dead)) as client:
        response = await client.post("/api/v1/records", content=RECORD)
        ready = await client.get("/health/ready")
        live = await client.get("/health/live")
    assert (response.status_code, response.headers["Retry-After"]) == (503, "5")
    assert ready.status_code == 503
    assert ready.json()["checks"]["kafka"].startswith("error")
    assert live.status_code == 200


NOWHERE_REDIS = "redis://127.0.0.1:1/0"
CSV = ("a.csv", b"well_code,production_period\n1,2024-01\n", "text/csv")


async def test_without_redis_the_service_is_ready_and_takes_records(
    settings_env: dict[str, str],
) -> None:
    away = settings(redis_url=NOWHERE_REDIS, rate_limit_requests=5)
    async with running(away) as client:
        ready = await client.get("/health/ready")
        records = [await client.post("/api/v1/records", content=RECORD) for _ in range(7)]
        upload = await client.post("/api/v1/uploads", files={"file": CSV})
        job = await client.get("/api/v1/uploads/0123")
    assert (ready.status_code, ready.json()["checks"]) == (200, {"kafka": "ok"})
    # the limit (5) is not counted while Redis is away: every record goes on
    assert [r.status_code for r in records] == [202] * 7
    assert "X-RateLimit-Remaining" not in records[0].headers
    for refused in (upload, job):
        assert refused.status_code == 503
        assert refused.headers["Retry-After"]
        assert refused.json()["error_code"] == "unavailable"


async def test_without_redis_a_fail_closed_ingest_scope_answers_503(
    settings_env: dict[str, str],
) -> None:
    away = settings(redis_url=NOWHERE_REDIS, rate_limit_requests=5, rate_limit_fail_open=[])
    async with running(away) as client:
        ready = await client.get("/health/ready")
        refused = await client.post("/api/v1/records", content=RECORD)
    assert ready.status_code == 200
    assert (refused.status_code, refused.json()["message"]) == (503, "rate limiter unavailable")
    assert refused.headers["Retry-After"]
