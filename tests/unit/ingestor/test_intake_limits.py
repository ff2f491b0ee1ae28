"""The intake routes under resource limits: one oversized record answers 413 (never
503), bad records are rejected lines, uploads and imports are capped per key, and the
spool is cleaned at start-up."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from faststream.kafka import KafkaMessage, TestKafkaBroker
from pydantic import SecretStr

from ingestor.app import create_app
from ingestor.config import IngestorSettings
from ingestor.limits import NOT_A_NUMBER
from ingestor.publish import Publisher
from ingestor.spool import PREFIX
from runtime.settings import ApiKey

KEY = "ingest-key-0123456789"
AUTH = {"X-API-Key": KEY}


def settings(tmp_path: Path, **overrides: object) -> IngestorSettings:
    keys = [ApiKey(name="loader", key=SecretStr(KEY), scopes=["ingest"])]
    base = {
        "api_keys": keys,
        "topic_raw": "raw",
        "topic_dlq": "dlq",
        "rate_limit_requests": 0,
        "upload_dir": str(tmp_path),
    }
    return IngestorSettings.model_validate(base | overrides)


@dataclass
class Intake:
    app: FastAPI
    client: httpx.AsyncClient
    raw: list[bytes] = field(default_factory=list)
    dlq: list[bytes] = field(default_factory=list)


async def intake(app: FastAPI) -> AsyncIterator[Intake]:
    publisher: Publisher = app.state.publisher
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingestor") as client:
        found = Intake(app, client)

        @publisher.broker.subscriber("raw")
        async def on_raw(body: object, message: KafkaMessage) -> None:
            found.raw.append(message.body)

        @publisher.broker.subscriber("dlq")
        async def on_dlq(body: object, message: KafkaMessage) -> None:
            found.dlq.append(message.body)

        async with TestKafkaBroker(publisher.broker):
            publisher.connected = True
            yield found


@pytest.fixture
async def ingestor(tmp_path: Path) -> AsyncIterator[Intake]:
    app = create_app(settings(tmp_path, max_concurrent_uploads=1, upload_quota_bytes=50_000))
    async for found in intake(app):
        yield found


async def post(found: Intake, body: bytes, content_type: str) -> httpx.Response:
    headers = AUTH | {"Content-Type": content_type}
    return await found.client.post("/api/v1/records", content=body, headers=headers)


@pytest.mark.parametrize("content_type", ["application/json", "application/x-ndjson"])
async def test_one_record_over_the_limit_is_413_not_503(
    ingestor: Intake, content_type: str
) -> None:
    # Today: a 1.2 MB body answered 503 "Kafka is unavailable" while Kafka was healthy.
    record = orjson.dumps({"well_code": 1, "pad": "x" * 1_200_000})
    response = await post(ingestor, record, content_type)
    assert response.status_code == 413
    assert response.json()["error_code"] == "payload_too_large"
    assert response.json()["details"]["limit_bytes"] == 256 * 1024
    assert ingestor.raw == ingestor.dlq == []


async def test_a_record_over_the_limit_among_others_is_a_small_dead_letter(
    ingestor: Intake,
) -> None:
    # Today: 690 KB without a period made a 1.15 MB dead letter, beyond a request.
    big = orjson.dumps({"well_code": 1, "pad": '"\u0001' * 200_000})
    body = b"[" + big + b', {"well_code": 2}]'
    response = await post(ingestor, body, "application/json")
    assert response.status_code == 202
    assert response.json() | {"request_id": ""} == {
        "request_id": "",
        "accepted": 1,
        "rejected": 1,
        "rejected_lines": [1],
        "rejections": [
            {
                "line": 1,
                "errors": [
                    {
                        "field": None,
                        "code": "record_too_large",
                        "message": "record longer than 262144 bytes (dead letter truncated)",
                    }
                ],
            }
        ],
    }
    [letter] = ingestor.dlq
    assert len(letter) < 16 * 1024 + 4096
    assert orjson.loads(letter)["payload_truncated"] is True
    assert orjson.loads(letter)["errors"][0]["code"] == "record_too_large"


@pytest.mark.parametrize("content_type", ["application/json", "application/x-ndjson"])
@pytest.mark.parametrize(
    "record",
    [
        pytest.param(b'{"well_code": 1, "x": ' + b"[" * 3000 + b"]" * 3000 + b"}", id="deep"),
        pytest.param(b'{"well_code": ' + b"9" * 5000 + b"}", id="5000-digits"),
        pytest.param(b'{"well_code": 1, "oil": NaN}', id="nan"),
    ],
)
async def test_malformed_records_are_rejected_lines_never_500(
    ingestor: Intake, content_type: str, record: bytes
) -> None:
    body = b"[" + record + b"]" if content_type == "application/json" else record
    response = await post(ingestor, body + b"\n", content_type)
    assert response.status_code == 202
    assert response.json()["rejected_lines"] == [1]


@pytest.mark.parametrize("content_type", ["application/json", "application/x-ndjson"])
async def test_nan_is_refused_with_one_reason_by_both_paths(
    ingestor: Intake, content_type: str
) -> None:
    record = b'{"well_code": 1, "oil": NaN}'
    body = b"[" + record + b"]" if content_type == "application/json" else record
    await post(ingestor, body, content_type)
    [letter] = ingestor.dlq
    assert orjson.loads(letter)["errors"][0]["message"] == NOT_A_NUMBER


def multipart(fields: dict[str, Any], file: bytes = b"well_code\n1\n") -> dict[str, Any]:
    return {"data": fields, "files": {"file": ("a.csv", file, "text/csv")}}


async def test_a_large_form_field_is_413(ingestor: Intake) -> None:
    # Today: non-file fields were held in memory whatever their size.
    form = multipart({"encoding": "x" * 20_000})
    response = await ingestor.client.post("/api/v1/uploads", headers=AUTH, **form)
    assert response.status_code == 413
    assert "form field" in response.json()["message"]


async def test_many_form_fields_are_413(ingestor: Intake) -> None:
    form = multipart({f"f{i}": "x" for i in range(50)})
    response = await ingestor.client.post("/api/v1/uploads", headers=AUTH, **form)
    assert response.status_code == 413


async def test_a_malformed_multipart_body_is_400(ingestor: Intake) -> None:
    headers = AUTH | {"Content-Type": "multipart/form-data; boundary=xyz"}
    body = b"--xyz\r\nno-colon-header\r\n\r\ndata\r\n--xyz--\r\n"
    response = await ingestor.client.post("/api/v1/uploads", headers=headers, content=body)
    assert response.status_code == 400
    assert set(response.json()) == {"error_code", "message", "details", "request_id", "timestamp"}


@pytest.mark.parametrize(
    "where",
    [pytest.param("form", id="form-field"), pytest.param("query", id="query-parameter")],
)
async def test_an_encoding_with_a_nul_character_is_400(ingestor: Intake, where: str) -> None:
    # Found by the fuzzer: codecs.lookup raises ValueError, not LookupError, on a NUL (500).
    form = multipart({"encoding": "utf\x00-8"} if where == "form" else {})
    params = {"encoding": "utf\x00-8"} if where == "query" else {}
    response = await ingestor.client.post("/api/v1/uploads", headers=AUTH, params=params, **form)
    assert response.status_code == 400
    assert response.json()["error_code"] == "bad_request"


async def test_an_import_from_a_page_beyond_64_bits_is_422(ingestor: Intake) -> None:
    # Found by the fuzzer: the job was created and its answer failed to serialize (500).
    body = {"start_page": 2**70}
    response = await ingestor.client.post("/api/v1/imports", headers=AUTH, json=body)
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "body.start_page"


async def test_uploads_beyond_the_keys_concurrency_are_429(ingestor: Intake) -> None:
    lease = ingestor.app.state.uploads.quota.acquire("loader", "default")  # one upload in progress
    try:
        form = multipart({})
        response = await ingestor.client.post("/api/v1/uploads", headers=AUTH, **form)
    finally:
        lease.release()
    assert response.status_code == 429
    assert response.headers["Retry-After"]


async def test_uploads_beyond_the_keys_disk_quota_are_413(ingestor: Intake, tmp_path: Path) -> None:
    form = multipart({}, file=b"well_code\n" + b"1\n" * 50_000)
    response = await ingestor.client.post("/api/v1/uploads", headers=AUTH, **form)
    assert response.status_code == 413
    assert "disk" in response.json()["message"]
    assert ingestor.app.state.uploads.quota.in_use("loader") == (0, 0)
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(PREFIX)]  # noqa: ASYNC240


async def test_imports_beyond_the_keys_concurrency_are_429(tmp_path: Path) -> None:
    app = create_app(
        settings(tmp_path, api_base_url="http://api.invalid", max_concurrent_imports=1)
    )
    async for found in intake(app):
        lease = app.state.importer.quota.acquire("loader", "default")
        response = await found.client.post("/api/v1/imports", headers=AUTH, json={})
        lease.release()
        assert response.status_code == 429


def test_spooled_files_left_by_a_crash_are_removed_at_start_up(tmp_path: Path) -> None:
    left = tmp_path / f"{PREFIX}abc123"
    left.write_bytes(b"half an upload")
    other = tmp_path / "someone-elses-file"
    other.write_bytes(b"kept")

    create_app(settings(tmp_path))

    assert not left.exists()
    assert other.exists()
