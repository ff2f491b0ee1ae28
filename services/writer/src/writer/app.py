"""Composition root: settings → ClickHouse, Redis, a Kafka producer for the writer's own
dead letters, the two consumer loops (``writer.consumer``), HTTP app.

Readiness covers Kafka and ClickHouse, not Redis: the writer only bumps cache
generations there, and a Redis outage must not stop inserts (nor make an orchestrator
restart a writer that works); it shows in ``wellstream_writer_cache_bump_failures_total``.
"""

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI

from runtime import kafka, logs
from runtime import redis as redis_client
from runtime.clickhouse import ClickHouse, connect
from runtime.http import create_app as create_http_app
from runtime.http import serve
from runtime.settings import load
from writer import consumer, deadletters, handlers, metrics, schema
from writer.cache import Invalidation
from writer.config import WriterSettings
from writer.inserts import Inserts

T = TypeVar("T")


@dataclass
class _Clients:
    clickhouse: ClickHouse | None = None
    records: consumer.Loop[Any] | None = None


def _started(client: T | None) -> T:
    if client is None:
        raise ConnectionError("not started")
    return client


def connect_clickhouse(settings: WriterSettings) -> ClickHouse:
    return ClickHouse(
        connect(settings.clickhouse_url, ca_file=settings.clickhouse_ca_file),
        retry_for=settings.insert_retry_seconds,
        on_retry=lambda _exc: metrics.INSERT_RETRIES.inc(),
    )


def create_app(
    settings: WriterSettings | None = None, *, clickhouse: ClickHouse | None = None
) -> FastAPI:
    """The writer app. ``clickhouse`` replaces the client built from settings (the
    caller keeps ownership of it), e.g. to inject faults at the adapter."""
    settings = settings or load(WriterSettings)
    clients = _Clients()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        ch = clickhouse or connect_clickhouse(settings)
        redis = redis_client.connect(settings.redis_url, ca_file=settings.redis_ca_file)
        producer = kafka.Producer(settings, client_id="writer")
        started: list[consumer.Loop[Any]] = []
        try:
            if settings.migrate_on_start:
                await schema.migrate(ch, settings.clickhouse_cluster)
            await kafka.ensure_topics(settings)
            await producer.start()
            invalidation = Invalidation(redis, settings.cache_bump_timeout_seconds)
            publish = deadletters.publisher(producer, settings.topic_dlq)
            for loop in handlers.loops(settings, Inserts(ch), publish, invalidation):
                started.append(loop)
                await loop.start()
            clients.clickhouse, clients.records = ch, started[0]
            with consumer.short_switch_interval():
                yield
        finally:
            clients.clickhouse = clients.records = None
            for loop in reversed(started):
                await loop.stop()
            await producer.stop()
            await redis.aclose()
            if clickhouse is None:
                ch.close()

    async def kafka_ready() -> None:
        await _started(clients.records).ping()

    async def clickhouse_ready() -> None:
        await _started(clients.clickhouse).ping()

    return create_http_app(
        "writer",
        settings,
        lifespan=lifespan,
        checks={"kafka": kafka_ready, "clickhouse": clickhouse_ready},
        description="Consumes normalized records and dead letters into ClickHouse.",
    )


async def migrate(settings: WriterSettings) -> list[str]:
    """Apply the pending migrations to ``settings.clickhouse_url`` (on
    ``settings.clickhouse_cluster`` when set); their names."""
    ch = ClickHouse(connect(settings.clickhouse_url, ca_file=settings.clickhouse_ca_file))
    try:
        return await schema.migrate(ch, settings.clickhouse_cluster)
    finally:
        ch.close()


def main() -> None:
    """``wellstream-writer`` serves the writer; ``wellstream-writer migrate`` only applies
    the ClickHouse migrations and exits."""
    parser = argparse.ArgumentParser(prog="wellstream-writer")
    parser.add_argument("command", nargs="?", choices=["serve", "migrate"], default="serve")
    command = parser.parse_args().command
    settings = load(WriterSettings)
    logs.configure(settings.log_level, json=settings.log_json)
    if command == "migrate":
        applied = asyncio.run(migrate(settings))
        print(f"applied: {', '.join(applied) or 'nothing (schema up to date)'}")
        return
    serve(create_app(settings), settings.host, settings.port)


if __name__ == "__main__":
    main()
