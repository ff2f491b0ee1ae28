"""Dead letters (admin), replay to the raw topic, JWT bearer tokens and rate limits."""

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest

from contracts.records import decode_canonical
from runtime.clickhouse import ClickHouse
from tests.integration.gateway_support import (
    ADMIN_KEY,
    READ_KEY,
    add_dead_letter,
    serve,
    settings,
    until_kafka,
)
from tests.integration.kafka_support import consume
from validator.handlers import to_raw
from validator.pipeline import process_batch
from validator.rules import Policy

pytestmark = pytest.mark.integration

SECRET = "jwt-secret-for-tests-0123456789abcdef"
AUDIENCE, ISSUER = "wellstream", "https://issuer.example"


@pytest.fixture
async def api(
    clickhouse: ClickHouse, settings_env: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(
        settings(
            jwt_secret=SECRET, jwt_audience=AUDIENCE, jwt_issuer=ISSUER, rate_limit_requests=1000
        )
    ) as client:
        yield client


async def test_dead_letters_need_admin(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/dead-letters")
    assert response.status_code == 403


async def test_list_and_replay(
    api: httpx.AsyncClient, clickhouse: ClickHouse, settings_env: dict[str, str], unique: str
) -> None:
    code = f"unknown_unit_{unique}"
    payload = f'{{"well_code": "W{unique}", "production_period": "2024-01"}}'
    await add_dead_letter(clickhouse, f"dl1-{unique}", payload, code)
    await add_dead_letter(clickhouse, f"dl2-{unique}", "not json", code)
    admin = {"X-API-Key": ADMIN_KEY}
    page = (await api.get(f"/api/v1/dead-letters?error_code={code}", headers=admin)).json()
    assert sorted(i["id"] for i in page["items"]) == [f"dl1-{unique}", f"dl2-{unique}"]
    item = next(i for i in page["items"] if i["id"] == f"dl1-{unique}")
    assert item["errors"][0]["code"] == code
    assert item["source"] == {"topic": "raw", "partition": 0, "offset": 7}

    body = {"ids": [f"dl1-{unique}", f"dl2-{unique}", f"missing-{unique}"]}
    await until_kafka(api)
    replay = await api.post("/api/v1/dead-letters/replay", json=body, headers=admin)
    assert replay.status_code == 200, replay.text
    assert replay.json() == {
        "replayed": [f"dl1-{unique}", f"dl2-{unique}"],
        "missing": [f"missing-{unique}"],
    }
    servers = settings_env["WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS"]
    sent = await consume(servers, settings_env["WELLSTREAM_TOPIC_RAW"], 2, within=10, settle=1.0)
    messages = {m.value: m.key for m in sent}
    assert messages == {payload.encode(): f"W{unique}".encode(), b"not json": None}


def token(scope: str, *, secret: str = SECRET, expires_in: int = 86_400) -> str:
    """A token made when the tests are collected, so valid for a day: the suite runs
    for minutes before it is used."""
    claims: dict[str, Any] = {"sub": "svc", "scope": scope, "aud": AUDIENCE, "iss": ISSUER}
    claims["exp"] = int(time.time()) + expires_in
    return jwt.encode(claims, secret, algorithm="HS256")


@pytest.mark.parametrize(
    ("bearer", "status"),
    [
        pytest.param(token("read"), 200, id="read-scope"),
        pytest.param(token("ingest"), 403, id="wrong-scope"),
        pytest.param(
            token("read", secret="another-secret-0123456789abcdef-xyz"), 401, id="bad-sig"
        ),
        pytest.param(token("read", expires_in=-30), 401, id="expired"),
    ],
)
async def test_jwt_bearer_maps_to_scopes(api: httpx.AsyncClient, bearer: str, status: int) -> None:
    response = await api.get(
        "/api/v1/stats", headers={"Authorization": f"Bearer {bearer}", "X-API-Key": ""}
    )
    assert response.status_code == status


async def test_rate_limit_answers_429(
    clickhouse: ClickHouse, settings_env: dict[str, str], unique: str
) -> None:
    # a key name of this test's own: limits are counted per key name in the shared Redis
    keys = [{"name": f"reader-{unique}", "key": READ_KEY, "scopes": ["read"]}]
    limited = settings(api_keys=keys, rate_limit_requests=2, rate_limit_period_seconds=60)
    async with serve(limited) as api:
        first = await api.get("/api/v1/stats")
        assert first.headers["x-ratelimit-limit"] == "2"
        await api.get("/api/v1/stats")
        refused = await api.get("/api/v1/stats")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error_code"] == "rate_limited"
    assert READ_KEY not in refused.text


async def test_a_replay_keeps_the_acceptance_time_and_changes_nothing_twice(
    api: httpx.AsyncClient, clickhouse: ClickHouse, settings_env: dict[str, str], unique: str
) -> None:
    """A dead letter is replayed with the time its record was first accepted: two replays
    are the same record (same record_id and version); a cut payload is not replayed."""
    payload = f'{{"well_code": "W{unique}", "production_period": "2024-01"}}'
    await add_dead_letter(clickhouse, f"dl-{unique}", payload, "missing_field")
    await clickhouse.command(
        "ALTER TABLE dead_letters UPDATE accepted_at_ms = 1700000000000"
        f" WHERE id = 'dl-{unique}' SETTINGS mutations_sync = 1"
    )
    await add_dead_letter(clickhouse, f"cut-{unique}", payload[:20], "missing_field")
    await clickhouse.command(
        "ALTER TABLE dead_letters UPDATE payload_truncated = true"
        f" WHERE id = 'cut-{unique}' SETTINGS mutations_sync = 1"
    )
    admin = {"X-API-Key": ADMIN_KEY}
    await until_kafka(api)
    cut = await api.post(
        "/api/v1/dead-letters/replay", json={"ids": [f"cut-{unique}"]}, headers=admin
    )
    assert cut.status_code == 409, cut.text
    assert cut.json()["details"][0]["code"] == "payload_truncated"
    for _ in range(2):
        replay = await api.post(
            "/api/v1/dead-letters/replay", json={"ids": [f"dl-{unique}"]}, headers=admin
        )
        assert replay.status_code == 200, replay.text

    servers = settings_env["WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS"]
    sent = await consume(servers, settings_env["WELLSTREAM_TOPIC_RAW"], 2, within=10, settle=1.0)
    replayed = [to_raw(m) for m in sent]
    assert len(replayed) == 2, "the truncated one was not sent"
    assert {m.accepted_ms for m in replayed} == {1_700_000_000_000}
    # What the validator makes of each replay: one record, one version.
    results = [process_batch([m], Policy(), None) for m in replayed]
    records = [decode_canonical(r.normalized[0].body) for r in results]
    assert len({(r.record_id, r.version) for r in records}) == 1
    assert records[0].version == 1_700_000_000_000
