"""Kafka going away: during a request the API answers 503 with Retry-After, and never
counts as accepted what the broker did not acknowledge; once the broker is back the
service takes records again. Without Kafka at start-up the service still starts, not
ready, and answers 503."""

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
