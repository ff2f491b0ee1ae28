"""``POST /api/v1/imports`` against a real local HTTP server that misbehaves on purpose:
5xx, 429 with Retry-After, timeouts, a page that keeps failing, then resuming."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Header, Response

from ingestor.jobs import JobStore
from runtime import redis
from tests.integration.ingestor_support import finished, running, settings
from tests.integration.kafka_support import consume
from wellstream.infra import free_port

pytestmark = pytest.mark.integration

API_KEY = "external-api-key-0123"
PAGES, PER_PAGE = 4, 5


@dataclass
class FakeApi:
    """Pages of records; ``faults[page]`` lists what the next calls for that page do."""

    faults: dict[int, list[str]] = field(default_factory=dict)
    calls: list[tuple[int, float]] = field(default_factory=list)
    keys: set[str | None] = field(default_factory=set)

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.get("/production", response_model=None)
        async def production(
            page: int, page_size: int, x_api_key: str | None = Header(None)
        ) -> Response | dict[str, Any]:
            self.calls.append((page, time.monotonic()))
            self.keys.add(x_api_key)
            fault = self.faults.get(page, [])
            kind = fault.pop(0) if fault else "ok"
            if kind == "500":
                return Response(status_code=500)
            if kind == "429":
                return Response(status_code=429, headers={"Retry-After": "1"})
            if kind == "slow":
                await asyncio.sleep(2)
            data = [
                {"well_code": f"P{page}-{i}", "production_period": "2024-01"}
                for i in range(page_size)
            ]
            return {"data": data, "next_page": page + 1 if page < PAGES else None}

        return api


@contextlib.asynccontextmanager
async def serving(api: FakeApi) -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(api.app(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
            await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def import_settings(base_url: str) -> Any:
    return settings(
        api_base_url=base_url,
        api_key=API_KEY,
        import_page_size=PER_PAGE,
        import_timeout_seconds=0.5,
        import_max_attempts=3,
        import_backoff_initial_seconds=0.05,
        import_backoff_max_seconds=2,
    )


async def test_import_survives_5xx_429_and_timeouts(settings_env: dict[str, str]) -> None:
    api = FakeApi(faults={1: ["500"], 2: ["429"], 3: ["slow", "500"]})
    async with serving(api) as base_url, running(import_settings(base_url)) as client:
        started = await client.post("/api/v1/imports", json={"params": {"since": "2024-01"}})
        assert started.status_code == 202
        job = await finished(client, f"/api/v1/imports/{started.json()['id']}")
    assert (job["status"], job["accepted"], job["pages_done"], job["next_page"]) == (
        "done",
        PAGES * PER_PAGE,
        PAGES,
        None,
    )
    assert [page for page, _ in api.calls] == [1, 1, 2, 2, 3, 3, 3, 4]
    (_, refused), (_, retried) = api.calls[2:4]
    assert retried - refused >= 0.95  # Retry-After: 1 was honoured
    assert api.keys == {API_KEY}
    servers = settings_env["WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS"]
    records = await consume(servers, settings_env["WELLSTREAM_TOPIC_RAW"], PAGES * PER_PAGE)
    assert len({r.key for r in records}) == PAGES * PER_PAGE


async def test_a_failed_import_resumes_from_its_next_page(settings_env: dict[str, str]) -> None:
    api = FakeApi(faults={3: ["500"] * 3})  # page 3 fails every attempt the first time
    async with serving(api) as base_url, running(import_settings(base_url)) as client:
        started = await client.post("/api/v1/imports", json={})
        url = f"/api/v1/imports/{started.json()['id']}"
        failed = await finished(client, url)
        resume = {"resume": started.json()["id"]}
        twice = await asyncio.gather(
            client.post("/api/v1/imports", json=resume), client.post("/api/v1/imports", json=resume)
        )
        done = await finished(client, url)
    assert (failed["status"], failed["next_page"], failed["accepted"]) == ("failed", 3, 10)
    assert "500" in failed["error"]
    assert sorted(r.status_code for r in twice) == [202, 409]  # one resume wins
    assert (done["status"], done["accepted"], done["pages_done"]) == ("done", 20, 4)
    assert [page for page, _ in api.calls] == [1, 2, 3, 3, 3, 3, 4]
    servers = settings_env["WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS"]
    records = await consume(servers, settings_env["WELLSTREAM_TOPIC_RAW"], 20, settle=1.0)
    assert len(records) == 20  # pages 1 and 2 were not published twice


async def test_imports_without_an_api_configured_are_503(settings_env: dict[str, str]) -> None:
    async with running(settings()) as client:
        response = await client.post("/api/v1/imports", json={})
    assert response.status_code == 503


async def test_a_running_import_whose_runner_went_silent_can_be_resumed(
    settings_env: dict[str, str],
) -> None:
    api = FakeApi()
    async with serving(api) as base_url:
        app_settings = import_settings(base_url).model_copy(update={"import_stale_seconds": 0.2})
        async with running(app_settings) as client:
            client_redis = redis.connect(settings_env["WELLSTREAM_REDIS_URL"])
            store = JobStore(client_redis, "import")
            job = {"status": "running", "params": {}, "page_size": PER_PAGE, "next_page": 3}
            orphan = await store.create(job)  # as a replica that died mid-import leaves it
            fresh = await client.post("/api/v1/imports", json={"resume": orphan})
            await asyncio.sleep(0.3)
            stale = await client.post("/api/v1/imports", json={"resume": orphan})
            done = await finished(client, f"/api/v1/imports/{orphan}")
            await client_redis.aclose()
    assert (fresh.status_code, stale.status_code) == (409, 202)
    assert (done["status"], done["accepted"]) == ("done", 2 * PER_PAGE)
    assert [page for page, _ in api.calls] == [3, 4]
