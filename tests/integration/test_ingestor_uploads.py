"""``POST /api/v1/uploads`` on the real broker and Redis: formats, encodings, progress,
and a file far larger than what the service holds in memory."""

import asyncio
import gzip
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.integration.ingestor_support import finished, running, settings, values
from tests.integration.kafka_support import consume

pytestmark = pytest.mark.integration

CSV_LATIN1 = (
    "well_code;production_period;oil_production_kbd;well_name\r\n"
    '7-MRL-123D-RJS;2024-01;1,25;"Marlim\r\nSul ""A"""\r\n'
    ";2024-02;0,5;no code\r\n"
    "8;2024-03;;Ærø\r\n"
).encode("latin-1")

WRAPPED_JSON = orjson.dumps(
    {"meta": {"source": "legacy"}, "data": [{"well_code": 1}, {"well_code": "2"}, 3]}
)


@pytest.fixture
async def client(settings_env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(settings()) as http:
        yield http


@pytest.mark.parametrize(
    ("filename", "content", "keys", "rejected_lines", "encoding"),
    [
        pytest.param(
            "wells.csv", CSV_LATIN1, ["7-MRL-123D-RJS", "8"], [4], "latin-1", id="csv-latin1"
        ),
        pytest.param(
            "export.csv.gz",
            gzip.compress(b"\xef\xbb\xbfwell_code,production_period\n5,2024-01\n6,2024-02\n"),
            ["5", "6"],
            [],
            "utf-8-sig",
            id="csv-bom-gzip",
        ),
        pytest.param("import.json", WRAPPED_JSON, ["1", "2"], [3], "utf-8", id="wrapped-json"),
    ],
)
async def test_upload_formats(
    client: httpx.AsyncClient,
    settings_env: dict[str, str],
    filename: str,
    content: bytes,
    keys: list[str],
    rejected_lines: list[int],
    encoding: str,
) -> None:
    response = await client.post("/api/v1/uploads", files={"file": (filename, content)})
    assert response.status_code == 202
    accepted = response.json()
    assert accepted["bytes_total"] == len(content)
    job = await finished(client, accepted["status_url"])
    assert (job["status"], job["accepted"], job["rejected_lines"]) == (
        "done",
        len(keys),
        rejected_lines,
    )
    assert job["encoding"] == encoding
    assert [r["line"] for r in job["rejections"]] == rejected_lines  # each with its reasons
    assert all(r["errors"] for r in job["rejections"])
    servers = settings_env["WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS"]
    records = await consume(servers, settings_env["WELLSTREAM_TOPIC_RAW"], len(keys))
    assert sorted(r.key.decode() for r in records) == sorted(keys)
    if filename == "wells.csv":
        by_code = {v["well_code"]: v for v in values(records)}
        assert by_code["7-MRL-123D-RJS"]["well_name"] == 'Marlim\r\nSul "A"'
        assert by_code["8"] == {
            "well_code": "8",
            "production_period": "2024-03",
            "well_name": "Ærø",
            "organisation": "default",  # the uploading key's
        }
    dead = await consume(servers, settings_env["WELLSTREAM_TOPIC_DLQ"], len(rejected_lines))
    assert [letter["line"] for letter in values(dead)] == rejected_lines


async def test_refused_uploads(settings_env: dict[str, str], tmp_path: Path) -> None:
    async with running(settings(max_upload_bytes=1000, upload_dir=str(tmp_path))) as client:
        missing = await client.get("/api/v1/uploads/nope")
        no_file = await client.post("/api/v1/uploads", files={"other": ("x.csv", b"a\n1\n")})
        bad_encoding = await client.post(
            "/api/v1/uploads", files={"file": ("x.csv", b"a\n1\n")}, data={"encoding": "klingon"}
        )
        too_large = await client.post("/api/v1/uploads", files={"file": ("x.csv", b"x" * 2000)})
    assert (missing.status_code, no_file.status_code) == (404, 400)
    assert (bad_encoding.status_code, too_large.status_code) == (400, 413)
    assert await asyncio.to_thread(lambda: list(tmp_path.iterdir())) == []  # nothing spooled


async def test_a_large_upload_is_streamed(settings_env: dict[str, str]) -> None:
    """A 24 MB CSV sent in chunks: the service holds a fraction of it at any time (the
    peak includes the start of the background publishing)."""
    row = b"%d,2024-01," + b"x" * 1000 + b"\n"
    rows_per_chunk, chunks = 256, 96
    boundary = "wellstream-test-boundary"

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n'
            "well_code,production_period,pad\n"
        ).encode()
        for chunk in range(chunks):
            yield b"".join(row % (chunk * rows_per_chunk + i) for i in range(rows_per_chunk))
        yield f"\r\n--{boundary}--\r\n".encode()

    async with running(settings(publish_window=1000)) as client:
        tracemalloc.start()
        try:
            response = await client.post(
                "/api/v1/uploads",
                content=body(),
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert response.status_code == 202
        assert response.json()["bytes_total"] > len(row) * rows_per_chunk * chunks
        job = await finished(client, response.json()["status_url"], within=60)
    assert (job["status"], job["accepted"]) == ("done", rows_per_chunk * chunks)
    assert job["bytes_read"] == job["bytes_total"]
    assert peak < len(row) * rows_per_chunk * chunks / 4, f"peak {peak:,} bytes"
