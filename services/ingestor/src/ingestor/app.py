"""Composition root: settings → Kafka, Redis, external API → publisher and jobs → routes.

Readiness is Kafka's alone: intake publishes there. Redis is optional: it keeps upload
and import jobs, which answer 503 with ``Retry-After`` while it is down, and counts rate
limits, which then follow ``RATE_LIMIT_FAIL_OPEN`` (records go on, unlimited, by
default). A Redis outage must not take records intake out of service.
"""

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
from fastapi import Depends, FastAPI, Request
from redis.exceptions import RedisError

from ingestor.config import IngestorSettings
from ingestor.importjobs import Importer, imports_router
from ingestor.imports import ExternalApi
from ingestor.jobs import Background, JobStore
from ingestor.publish import Publisher
from ingestor.quotas import Quota
from ingestor.routes import records_router
from ingestor.spool import clean
from ingestor.uploads import Uploads, spool_dir, uploads_router
from runtime import auth, errors, http, kafka, logs, redis
from runtime.ratelimit import RateLimiter, limit_requests
from runtime.settings import load

log = logging.getLogger(__name__)

DESCRIPTION = """Takes production records in over HTTP (JSON arrays, NDJSON, file uploads,
pulls from the external well-production API) and publishes them to the raw topic."""


async def _connect(settings: IngestorSettings, publisher: Publisher) -> None:
    await kafka.ensure_topics(settings)
    await publisher.broker.start()
    publisher.connected = True
    log.info("connected to Kafka at %s", settings.kafka_bootstrap_servers)


async def _keep_connecting(settings: IngestorSettings, publisher: Publisher) -> None:
    """Kafka may come up after the service: retry in the background meanwhile, and
    answer 503 (readiness failing) until it does."""
    delay = 1.0
    while not publisher.connected:
        await asyncio.sleep(delay)
        try:
            await _connect(settings, publisher)
        except Exception as exc:  # any failure to connect is retried the same way
            log.warning("Kafka still unavailable (%s); retrying in %.0fs", exc, delay)
            delay = min(delay * 2, 30.0)


async def _stop(broker: Any, within: float) -> None:
    # An idempotent producer retries unacknowledged batches forever, so with Kafka gone
    # its stop never returns: give up after a while rather than hang the shutdown.
    try:
        await asyncio.wait_for(broker.stop(), within)
    except TimeoutError:
        log.warning("Kafka did not acknowledge the last records within %.0fs at shutdown", within)


def _lifespan(
    settings: IngestorSettings,
    publisher: Publisher,
    background: Background,
    closers: Sequence[Callable[[], Awaitable[None]]],
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        retry: asyncio.Task[None] | None = None
        try:
            await _connect(settings, publisher)
        except Exception as exc:  # start anyway: readiness reports it, intake answers 503
            log.warning("Kafka unavailable at start-up: %s", exc)
            retry = asyncio.create_task(_keep_connecting(settings, publisher))
        try:
            yield
        finally:
            if retry is not None:
                retry.cancel()
            await background.cancel()
            publisher.connected = False
            await _stop(publisher.broker, settings.publish_timeout_seconds)
            for close in closers:
                await close()

    return lifespan


async def _redis_down(_: Request, exc: Exception) -> Any:
    log.warning("Redis unavailable: %s", exc)
    return errors.error_response(
        503,
        "unavailable",
        "Redis, which keeps upload and import jobs, is unavailable; retry later",
        headers={"Retry-After": errors.RETRY_AFTER},
    )


def _dependencies(settings: IngestorSettings, redis_client: Any) -> list[Any]:
    deps = [Depends(auth.require("ingest", auth.KeyRing(settings.api_keys)))]
    if settings.rate_limit_requests:
        limiter = RateLimiter(
            redis_client,
            limit=settings.rate_limit_requests,
            period_s=settings.rate_limit_period_seconds,
            namespace="ingestor",
            organisation_limit=settings.organisation_limit,
        )
        fail_open = "ingest" in settings.rate_limit_fail_open
        deps.append(Depends(limit_requests(limiter, fail_open=fail_open)))
    return deps


def create_app(settings: IngestorSettings | None = None) -> FastAPI:
    settings = settings or load(IngestorSettings)
    broker = kafka.make_broker(settings, client_id="ingestor")
    publisher = Publisher(
        broker,
        raw_topic=settings.topic_raw,
        dlq_topic=settings.topic_dlq,
        window=settings.publish_window,
        timeout_s=settings.publish_timeout_seconds,
    )
    redis_client = redis.connect(settings.redis_url, ca_file=settings.redis_ca_file)
    background = Background()
    clean(spool_dir(settings))
    quota = Quota("uploads", settings.max_concurrent_uploads, settings.upload_quota_bytes)
    uploads = Uploads(settings, publisher, JobStore(redis_client, "upload"), background, quota)
    api_client = httpx.AsyncClient(timeout=settings.import_timeout_seconds)
    api = ExternalApi(settings, api_client) if settings.api_base_url else None
    importer = Importer(
        settings,
        api,
        publisher,
        JobStore(redis_client, "import"),
        background,
        Quota("imports", settings.max_concurrent_imports),
    )

    closers = [api_client.aclose, redis_client.aclose]
    lifespan = _lifespan(settings, publisher, background, closers)
    app = http.create_app(
        "ingestor",
        settings,
        lifespan=lifespan,
        checks={"kafka": lambda: kafka.ping(broker)},
        description=DESCRIPTION,
    )

    app.add_exception_handler(RedisError, _redis_down)
    app.state.publisher = publisher
    app.state.uploads, app.state.importer = uploads, importer
    deps = _dependencies(settings, redis_client)
    app.include_router(records_router(settings, publisher), dependencies=deps)
    app.include_router(uploads_router(uploads), dependencies=deps)
    app.include_router(imports_router(importer), dependencies=deps)
    return app


def serve() -> None:
    settings = load(IngestorSettings)
    logs.configure(settings.log_level, json=settings.log_json)
    http.serve(create_app(settings), settings.host, settings.port)


def main() -> None:
    """``wellstream-ingestor`` serves the API; ``wellstream-ingestor backfill FILE ...``
    publishes a file straight to Kafka."""
    if len(sys.argv) > 1 and sys.argv[1] == "backfill":
        from ingestor.backfill import main as backfill

        sys.exit(backfill(sys.argv[2:]))
    parser = argparse.ArgumentParser(prog="wellstream-ingestor", description=main.__doc__)
    parser.add_argument("command", nargs="?", choices=["serve", "backfill"], default="serve")
    parser.parse_args()
    serve()
