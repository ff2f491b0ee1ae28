"""Helpers for the ingestor's integration tests: an app bound to the test stack, the
values of what it published, and waiting for background jobs."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
from aiokafka import ConsumerRecord
from pydantic import SecretStr

from ingestor.app import create_app
from ingestor.config import IngestorSettings
from runtime.settings import ApiKey

INGEST_KEY = "ingestor-integration-key-01"


def settings(**overrides: Any) -> IngestorSettings:
    """Settings from the ``settings_env`` environment plus an ingest key of a name of its
    own (rate limits live in the shared Redis, per key name); no rate limit unless set."""
    keys = [ApiKey(name=f"it-{uuid.uuid4().hex}", key=SecretStr(INGEST_KEY), scopes=["ingest"])]
    defaults = {"api_keys": keys, "rate_limit_requests": 0}
    return IngestorSettings.model_validate(defaults | overrides)


@contextlib.asynccontextmanager
async def running(app_settings: IngestorSettings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan run, and a client carrying the ingest key."""
    app = create_app(app_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://ingestor",
            headers={"X-API-Key": INGEST_KEY},
            timeout=60,
        ) as client:
            yield client


def values(records: list[ConsumerRecord]) -> list[Any]:
    return [orjson.loads(r.value) for r in records]


async def finished(client: httpx.AsyncClient, url: str, within: float = 30.0) -> dict[str, Any]:
    """Poll a job until it is no longer running."""
    async with asyncio.timeout(within):
        while True:
            job: dict[str, Any] = (await client.get(url)).json()
            if job["status"] not in ("running", "processing"):
                return job
            await asyncio.sleep(0.05)
