"""Composition root of the gateway: settings → clients → FastAPI app."""

import argparse
import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from starlette.middleware import Middleware

from gateway import admin, dashboard, export, pipeline, routes, shares, ui, uploads
from gateway.config import GatewaySettings
from gateway.deps import Clients
from gateway.hits import CachedSeries
from runtime import http, kafka, logs
from runtime import redis as redis_client
from runtime.auth import KeyRing
from runtime.clickhouse import ClickHouse, connect
from runtime.settings import load

log = logging.getLogger(__name__)

DESCRIPTION = (
    "Read API over well production records: wells, fields, time series, stats, streamed "
    "exports and dead letters. Every value is read from the latest version of each record."
)


async def connect_kafka(settings: GatewaySettings, clients: Clients) -> None:
    """Start the replay producer (a producer only, no subscribers) once Kafka answers,
    trying every ``kafka_retry_seconds``; until then replay answers 503."""
    while True:
        broker = kafka.make_broker(settings, client_id="gateway")
        try:
            await broker.start()
        except BaseException as exc:  # Kafka away: reads go on, replay waits
            with contextlib.suppress(Exception):
                await broker.stop()
            if not isinstance(exc, Exception):
                raise  # cancelled: the app stops
            log.warning("Kafka unavailable, replay answers 503 until it comes: %s", exc)
            await asyncio.sleep(settings.kafka_retry_seconds)
            continue
        clients.broker = broker
        return


async def stop_kafka(task: "asyncio.Task[None]", clients: Clients) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    if clients.broker is not None:
        await clients.broker.stop()
        clients.broker = None


def open_clickhouse(settings: GatewaySettings, clients: Clients, stack: AsyncExitStack) -> None:
    """The reads' pool, each client with the per-query limits, and the exports' own."""
    limits = {
        "max_execution_time": settings.query_max_execution_seconds,
        "max_result_rows": settings.query_max_result_rows,
        "result_overflow_mode": "throw",
    }
    make = functools.partial(connect, settings.clickhouse_url, ca_file=settings.clickhouse_ca_file)
    for _client in range(settings.clickhouse_pool_size):
        ch = ClickHouse(make(), retry_for=settings.clickhouse_retry_seconds, limits=limits)
        clients.pool.append(ch)
        stack.callback(ch.close)
    clients.exports = export.Exports(
        make, workers=settings.export_workers, per_key=settings.export_max_per_key
    )
    stack.callback(clients.exports.close)


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or load(GatewaySettings)
    clients = Clients(
        cache_ttl=settings.cache_ttl_seconds,
        cache_max_bytes=settings.cache_entry_max_bytes,
        rate_limit=(
            settings.rate_limit_requests,
            settings.rate_limit_period_seconds,
            settings.organisation_limit,
        ),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            open_clickhouse(settings, clients, stack)
            # connects on first use: the gateway starts, and reads go on, without Redis
            clients.redis = redis_client.connect(settings.redis_url, ca_file=settings.redis_ca_file)
            stack.push_async_callback(clients.redis.aclose)
            kafka_task = asyncio.create_task(connect_kafka(settings, clients))
            stack.push_async_callback(stop_kafka, kafka_task, clients)
            yield
        clients.redis = clients.exports = None
        clients.pool.clear()
        clients.reset()

    app = http.create_app(
        "gateway",
        settings,
        lifespan=lifespan,
        checks={"clickhouse": clients.ping_clickhouse},
        description=DESCRIPTION,
        inner=[Middleware(CachedSeries, clients=clients, keys=KeyRing(settings.api_keys))],
    )
    app.state.clients = clients
    # before ``routes``: its detail patterns would take ".../records" as part of a code
    app.include_router(dashboard.build_router(settings, clients))
    app.include_router(routes.build_router(settings, clients))
    app.include_router(pipeline.build_router(settings, clients))
    app.include_router(uploads.build_router(settings))
    app.include_router(ui.build_router())
    app.include_router(export.build_router(settings, clients))
    app.include_router(admin.build_router(settings, clients))
    app.include_router(shares.build_router(settings, clients))
    return app


def main() -> None:
    """``wellstream-gateway`` serves the read API."""
    parser = argparse.ArgumentParser(prog="wellstream-gateway", description=main.__doc__)
    parser.add_argument("command", nargs="?", choices=["serve"], default="serve")
    parser.parse_args()
    settings = load(GatewaySettings)
    logs.configure(settings.log_level, json=settings.log_json)
    http.serve(create_app(settings), settings.host, settings.port)
