"""``POST /api/v1/records`` on the real broker: what Kafka holds afterwards."""

import tracemalloc
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from contracts import topics
from tests.integration.ingestor_support import running, settings
from tests.integration.kafka_support import consume

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(settings_env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(settings()) as http:
        yield http


async def test_json_and_ndjson_reach_the_raw_topic_and_bad_lines_the_dlq(
    client: httpx.AsyncClient, settings_env: dict[str, str], unique: str
) -> None:
    array = [{"well_code": 100 + i, "production_period": "2024-01", "n": i} for i in range(3)]
    ndjson = (
        b'{"well_code": "W-' + unique.encode() + b'", "production_period": "2024-02"}\n'
        b"{broken\n"
        b'{"well_code": 7, "production_period": "2024-03"}\n'
    )
    first = await client.post(
        "/api/v1/records", content=orjson.dumps(array), headers={"X-Request-ID": "req-array"}
    )
    second = await client.post(
        "/api/v1/records",
        content=ndjson,
        headers={"Content-Type": "application/x-ndjson", "X-Request-ID": "req-ndjson"},
    )
    assert first.status_code == second.status_code == 202
    assert first.json()["accepted"] == 3
    assert (second.json()["accepted"], second.json()["rejected_lines"]) == (2, [2])

    servers = settings_env["WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS"]
    raw = await consume(servers, settings_env["WELLSTREAM_TOPIC_RAW"], 5)
    by_key = {r.key.decode(): r for r in raw}
    assert sorted(by_key) == sorted(["100", "101", "102", f"W-{unique}", "7"])
    assert orjson.loads(by_key["101"].value) == array[1] | {"organisation": "default"}
    headers = {name: value.decode() for name, value in by_key["7"].headers}
    assert headers[topics.HEADER_CORRELATION_ID] == "req-ndjson"
    assert headers[topics.HEADER_SCHEMA_VERSION] == "1"
    assert int(headers[topics.HEADER_ACCEPTED_AT]) > 1_700_000_000_000

    [dead] = await consume(servers, settings_env["WELLSTREAM_TOPIC_DLQ"], 1)
    letter = orjson.loads(dead.value)
    assert (letter["stage"], letter["line"], letter["payload"]) == ("ingestor", 2, "{broken")
    assert letter["errors"][0]["code"] == "unparseable_json"


async def test_readiness_checks_kafka_alone(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"kafka": "ok"}


async def test_a_large_body_is_streamed_not_held(settings_env: dict[str, str]) -> None:
    """24 MB of NDJSON pass through with a small fraction of that allocated at once."""
    record = b'{"well_code": 1, "production_period": "2024-01", "pad": "' + b"x" * 960 + b'"}\n'
    per_chunk, chunks = 256, 96  # 96 chunks of 256 records of ~1 KB: 24 MB

    async def body() -> AsyncIterator[bytes]:
        for _ in range(chunks):
            yield record * per_chunk

    async with running(settings(publish_window=1000)) as client:
        tracemalloc.start()
        try:
            response = await client.post(
                "/api/v1/records", content=body(), headers={"Content-Type": "application/x-ndjson"}
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert response.json()["accepted"] == per_chunk * chunks
    assert peak < len(record) * per_chunk * chunks / 4, f"peak {peak:,} bytes"
