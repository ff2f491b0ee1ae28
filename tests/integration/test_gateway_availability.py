"""The gateway is ready when its request path works (ClickHouse), starts without Kafka
or Redis, and answers 503 with Retry-After, promptly, for what a missing dependency
stops."""

import time
from typing import Any

import pytest
from clickhouse_connect.driver.exceptions import OperationalError

from runtime.clickhouse import ClickHouse
from tests.integration.gateway_support import ADMIN_KEY, Row, insert, serve, settings

pytestmark = pytest.mark.integration

NOWHERE_REDIS = "redis://127.0.0.1:1/0"
NOWHERE_KAFKA = "127.0.0.1:1"


async def test_without_redis_reads_go_on_and_admin_routes_refuse(
    clickhouse: ClickHouse, settings_env: dict[str, str], unique: str
) -> None:
    well = f"W{unique}"
    await insert(clickhouse, [Row(well, "2024-01", oil_bbl=3.0)])
    async with serve(settings(redis_url=NOWHERE_REDIS, rate_limit_requests=5)) as api:
        ready = await api.get("/health/ready")
        read = await api.get(f"/api/v1/wells/{well}/production")
        admin = await api.get("/api/v1/dead-letters", headers={"X-API-Key": ADMIN_KEY})
    assert (ready.status_code, ready.json()["checks"]) == (200, {"clickhouse": "ok"})
    assert read.status_code == 200
    assert read.json()["items"][0]["oil_bbl"] == 3.0
    assert admin.status_code == 503
    assert admin.headers["retry-after"]
    assert admin.json()["error_code"] == "unavailable"


async def test_without_kafka_the_gateway_starts_and_replay_answers_503(
    clickhouse: ClickHouse, settings_env: dict[str, str], unique: str
) -> None:
    well = f"W{unique}"
    await insert(clickhouse, [Row(well, "2024-01", oil_bbl=3.0)])
    away = settings(kafka_bootstrap_servers=NOWHERE_KAFKA, kafka_retry_seconds=0.2)
    async with serve(away) as api:
        ready = await api.get("/health/ready")
        read = await api.get(f"/api/v1/wells/{well}/production")
        replay = await api.post(
            "/api/v1/dead-letters/replay", json={"ids": ["x"]}, headers={"X-API-Key": ADMIN_KEY}
        )
    assert (ready.status_code, ready.json()["checks"]) == (200, {"clickhouse": "ok"})
    assert read.status_code == 200
    assert replay.status_code == 503
    assert replay.headers["retry-after"]
    assert replay.json()["message"] == "Kafka is unavailable"


async def test_a_read_during_a_clickhouse_outage_is_a_prompt_503(
    clickhouse: ClickHouse,
    settings_env: dict[str, str],
    unique: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused(*_: Any, **__: Any) -> Any:
        raise OperationalError("Error HTTPConnectionPool: connection refused")

    async with serve(settings(clickhouse_retry_seconds=1.0)) as api:
        clients = api._transport.app.state.clients  # type: ignore[attr-defined]
        for ch in clients.pool:
            monkeypatch.setattr(ch.client, "query", refused)
            monkeypatch.setattr(ch.client, "command", refused)
        started = time.perf_counter()
        read = await api.get(f"/api/v1/wells/W{unique}/production")
        took = time.perf_counter() - started
        ready = await api.get("/health/ready")
    assert read.status_code == 503
    assert read.headers["retry-after"]
    assert read.json()["error_code"] == "unavailable"
    assert "refused" not in read.text
    assert took < 1.0 + 2.0
    assert (ready.status_code, ready.json()["checks"]) == (503, {"clickhouse": "error"})
