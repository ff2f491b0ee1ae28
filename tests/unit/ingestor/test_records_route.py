"""``POST /api/v1/records`` through FastStream's in-memory broker."""

import gzip
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import orjson
import pytest
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaMessage, TestKafkaBroker
from pydantic import SecretStr

from contracts import topics
from ingestor.app import create_app
from ingestor.config import IngestorSettings
from ingestor.publish import Publisher
from runtime.settings import ApiKey

INGEST_KEY = "ingest-key-0123456789"
READ_KEY = "read-key-0123456789ab"
AUTH = {"X-API-Key": INGEST_KEY}


def key_of(message: KafkaMessage) -> bytes:
    record = message.raw_message
    assert isinstance(record, ConsumerRecord)
    key: bytes = record.key
    return key


@dataclass
class Sent:
    raw: list[KafkaMessage] = field(default_factory=list)
    dlq: list[dict[str, object]] = field(default_factory=list)


@dataclass
class Harness:
    client: httpx.AsyncClient
    sent: Sent
    publisher: Publisher


def make_settings(**overrides: object) -> IngestorSettings:
    keys = [
        ApiKey(name="loader", key=SecretStr(INGEST_KEY), scopes=["ingest"]),
        ApiKey(name="reader", key=SecretStr(READ_KEY), scopes=["read"]),
    ]
    return IngestorSettings.model_validate(
        {"api_keys": keys, "topic_raw": "raw", "topic_dlq": "dlq", "rate_limit_requests": 0}
        | overrides
    )


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    app = create_app(make_settings(max_body_bytes=2000))
    publisher: Publisher = app.state.publisher
    sent = Sent()

    @publisher.broker.subscriber("raw")
    async def on_raw(body: object, message: KafkaMessage) -> None:
        sent.raw.append(message)

    @publisher.broker.subscriber("dlq")
    async def on_dlq(body: object, message: KafkaMessage) -> None:
        sent.dlq.append(orjson.loads(message.body))

    async with TestKafkaBroker(publisher.broker):
        publisher.connected = True
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingestor") as client:
            yield Harness(client, sent, publisher)


async def test_ndjson_records_are_published_with_key_and_headers(harness: Harness) -> None:
    body = b'{"well_code": 12, "production_period": "2024-01"}\nnot json\n{"well_code": "B-7"}\n'
    response = await harness.client.post(
        "/api/v1/records",
        content=body,
        headers=AUTH | {"Content-Type": "application/x-ndjson", "X-Request-ID": "req-1"},
    )
    assert response.status_code == 202
    assert response.json() == {
        "request_id": "req-1",
        "accepted": 2,
        "rejected": 1,
        "rejected_lines": [2],
        "rejections": [
            {
                "line": 2,
                "errors": [
                    {
                        "field": None,
                        "code": "unparseable_json",
                        "message": "invalid literal, expected 'null': line 1 column 1 (char 0)",
                    }
                ],
            }
        ],
    }
    assert [key_of(m) for m in harness.sent.raw] == [b"12", b"B-7"]
    first = harness.sent.raw[0]
    # the record as sent, naming its owner: the organisation of the key that posted it
    assert (
        first.body == b'{"well_code": 12, "production_period": "2024-01","organisation":"default"}'
    )
    assert first.headers[topics.HEADER_CORRELATION_ID] == "req-1"
    assert first.headers[topics.HEADER_SCHEMA_VERSION] == "1"
    assert int(first.headers[topics.HEADER_ACCEPTED_AT]) > 1_700_000_000_000
    [letter] = harness.sent.dlq
    assert (letter["stage"], letter["line"], letter["payload"]) == ("ingestor", 2, "not json")
    assert letter["organisation"] == "default"


async def test_records_are_stamped_with_the_keys_organisation_and_another_is_refused() -> None:
    keys = [ApiKey(name="acme", key=SecretStr(INGEST_KEY), scopes=["ingest"], organisation="acme")]
    app = create_app(make_settings(api_keys=keys))
    publisher: Publisher = app.state.publisher
    sent = Sent()

    @publisher.broker.subscriber("raw")
    async def on_raw(body: object, message: KafkaMessage) -> None:
        sent.raw.append(message)

    @publisher.broker.subscriber("dlq")
    async def on_dlq(body: object, message: KafkaMessage) -> None:
        sent.dlq.append(orjson.loads(message.body))

    lines = [
        {"well_code": 1},
        {"well_code": 2, "organisation": "acme"},
        {"well_code": 3, "organisation": "globex"},
        {"well_code": 4, "organisation": None},
        {"well_code": 5, "organisation": 7},
    ]
    body = b"\n".join(orjson.dumps(line) for line in lines)
    async with TestKafkaBroker(publisher.broker):
        publisher.connected = True
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingestor") as client:
            response = await client.post(
                "/api/v1/records",
                content=body,
                headers=AUTH | {"Content-Type": "application/x-ndjson"},
            )
    assert response.json()["rejected_lines"] == [3, 5]
    owners = [(key_of(m), orjson.loads(m.body)["organisation"]) for m in sent.raw]
    assert owners == [(b"1", "acme"), (b"2", "acme"), (b"4", "acme")]
    assert [(d["line"], d["organisation"]) for d in sent.dlq] == [(3, "acme"), (5, "acme")]
    codes = {str(e["code"]) for d in sent.dlq for e in d["errors"]}  # type: ignore[attr-defined]
    assert codes == {"organisation_mismatch"}


@pytest.mark.parametrize(
    ("headers", "content"),
    [
        pytest.param({"Content-Type": "application/json"}, b'[{"well_code": 1}, 2]', id="json"),
        pytest.param({}, b'[{"well_code": 1}, 2]', id="sniffed-array"),
        pytest.param({}, b'{"well_code": 1}\n2\n', id="sniffed-ndjson"),
        pytest.param(
            {"Content-Encoding": "gzip", "Content-Type": "application/json"},
            gzip.compress(b'[{"well_code": 1}, 2]'),
            id="gzip",
        ),
    ],
)
async def test_formats(harness: Harness, headers: dict[str, str], content: bytes) -> None:
    response = await harness.client.post("/api/v1/records", content=content, headers=AUTH | headers)
    assert response.status_code == 202
    assert (response.json()["accepted"], response.json()["rejected_lines"]) == (1, [2])
    assert harness.sent.dlq[0]["errors"] == [
        {"field": None, "code": "not_an_object", "message": "expected an object, got int"}
    ]


@pytest.mark.parametrize(
    ("headers", "status", "error_code"),
    [
        pytest.param({}, 401, "unauthorized", id="no-key"),
        pytest.param({"X-API-Key": "wrong-key-0123456789"}, 401, "unauthorized", id="bad-key"),
        pytest.param({"Authorization": f"Bearer {READ_KEY}"}, 403, "forbidden", id="read-scope"),
        pytest.param(AUTH | {"Content-Type": "text/csv"}, 415, "unsupported_media_type", id="csv"),
    ],
)
async def test_refusals(
    harness: Harness, headers: dict[str, str], status: int, error_code: str
) -> None:
    response = await harness.client.post("/api/v1/records", content=b"[]", headers=headers)
    assert response.status_code == status
    assert response.json()["error_code"] == error_code
    assert response.headers["X-Request-ID"] == response.json()["request_id"]


async def chunks(count: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield b'{"well_code": 1}\n'


@pytest.mark.parametrize(
    "declared", [pytest.param(True, id="declared"), pytest.param(False, id="chunked")]
)
async def test_body_limit(harness: Harness, declared: bool) -> None:
    content = b'{"well_code": 1}\n' * 200 if declared else chunks(200)
    response = await harness.client.post(
        "/api/v1/records", content=content, headers=AUTH | {"Content-Type": "application/x-ndjson"}
    )
    assert response.status_code == 413
    assert response.json()["details"] == {"limit_bytes": 2000}


@pytest.mark.parametrize(
    ("content", "status"),
    [
        pytest.param(gzip.compress(b'{"well_code": 1}\n' * 200), 413, id="inflates-beyond-limit"),
        pytest.param(gzip.compress(b'{"well_code": 1}\n')[:-6], 400, id="truncated"),
        pytest.param(b"not gzip at all", 400, id="corrupt"),
    ],
)
async def test_gzip_bodies_are_checked(harness: Harness, content: bytes, status: int) -> None:
    response = await harness.client.post(
        "/api/v1/records", content=content, headers=AUTH | {"Content-Encoding": "gzip"}
    )
    assert response.status_code == status


async def test_kafka_unavailable_is_503_with_retry_after(harness: Harness) -> None:
    harness.publisher.connected = False
    response = await harness.client.post(
        "/api/v1/records", content=b'[{"well_code": 1}]', headers=AUTH
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert harness.sent.raw == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("POST", "/api/v1/records", id="records"),
        pytest.param("POST", "/api/v1/uploads", id="uploads"),
        pytest.param("GET", "/api/v1/uploads/some-id", id="upload-status"),
        pytest.param("POST", "/api/v1/imports", id="imports"),
        pytest.param("GET", "/api/v1/imports/some-id", id="import-status"),
    ],
)
async def test_every_intake_route_needs_the_ingest_scope(
    harness: Harness, method: str, path: str
) -> None:
    anonymous = await harness.client.request(method, path)
    reader = await harness.client.request(method, path, headers={"X-API-Key": READ_KEY})
    assert (anonymous.status_code, reader.status_code) == (401, 403)


async def test_health_and_metrics_need_no_key(harness: Harness) -> None:
    live = await harness.client.get("/health/live")
    metrics = await harness.client.get("/metrics")
    assert (live.status_code, metrics.status_code) == (200, 200)
    assert "wellstream_ingestor_records_total" in metrics.text


async def test_the_first_rejections_are_listed_with_their_reasons(harness: Harness) -> None:
    """Every rejected line is counted, the first 1,000 listed, the first 100 with why."""
    body = b"{}\n" * 150
    response = await harness.client.post(
        "/api/v1/records", content=body, headers=AUTH | {"Content-Type": "application/x-ndjson"}
    )
    assert response.status_code == 202, response.text
    answer = response.json()
    assert (answer["accepted"], answer["rejected"]) == (0, 150)
    assert answer["rejected_lines"] == list(range(1, 151))
    assert [r["line"] for r in answer["rejections"]] == list(range(1, 101))
    assert {e["field"] for r in answer["rejections"] for e in r["errors"]} == {"well_code"}
