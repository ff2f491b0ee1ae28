"""Composition root: settings -> clients -> the raw-topic consumer, inside a FastAPI app."""

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from redis.asyncio import Redis

from contracts.units import Quantity
from runtime import kafka, logs
from runtime import redis as runtime_redis
from runtime.http import create_app as create_http_app
from runtime.http import serve
from runtime.settings import load
from validator import handlers
from validator.config import ValidatorSettings
from validator.reference import ReferenceStore, read_wells
from validator.rules import Policy


def policy_of(settings: ValidatorSettings) -> Policy:
    return Policy(
        producing_time_tolerance=settings.producing_time_tolerance,
        future_grace_days=settings.future_period_grace_days,
        ceilings={
            Quantity.OIL: settings.max_oil_kbd,
            Quantity.LIQUIDS: settings.max_liquids_kbd,
            Quantity.WATER: settings.max_water_kbd,
            Quantity.GAS: settings.max_gas_mmcfd,
        },
        overrides=settings.rule_severities,
        default_organisation=settings.default_organisation,
    )


def reference_store(settings: ValidatorSettings, redis: Redis) -> ReferenceStore:
    return ReferenceStore(
        redis,
        prefix=settings.reference_key_prefix,
        ttl=settings.reference_cache_ttl_seconds,
        max_entries=settings.reference_cache_size,
        max_bytes=settings.reference_cache_bytes,
        retry_for=settings.reference_retry_for_seconds,
    )


def create_app(settings: ValidatorSettings | None = None) -> FastAPI:
    settings = settings or load(ValidatorSettings)
    policy = policy_of(settings)  # fails start-up on a bad severity override
    broker = kafka.make_broker(settings, client_id="validator")
    producer = kafka.Producer(settings, client_id="validator")
    redis = (
        runtime_redis.connect(settings.redis_url, ca_file=settings.redis_ca_file)
        if settings.reference_enabled
        else None
    )
    store = reference_store(settings, redis) if redis is not None else None
    handlers.register(broker, producer, settings, policy, store)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await kafka.ensure_topics(settings)
        await producer.start()
        await broker.start()
        try:
            yield
        finally:
            await broker.stop()
            await producer.stop()
            if redis is not None:
                await redis.aclose()

    checks: dict[str, Callable[[], Awaitable[object]]] = {"kafka": lambda: kafka.ping(broker)}
    if redis is not None:
        checks["redis"] = lambda: runtime_redis.ping(redis)
    app = create_http_app(
        "validator",
        settings,
        lifespan=lifespan,
        checks=checks,
        description="Validates and normalizes raw production records from Kafka.",
    )
    app.state.broker = broker
    app.state.reference = store
    return app


async def load_reference(settings: ValidatorSettings, path: Path) -> int:
    """Load well reference data from ``path`` into Redis; returns how many wells."""
    wells = read_wells(path)
    redis = runtime_redis.connect(settings.redis_url, ca_file=settings.redis_ca_file)
    try:
        return await reference_store(settings, redis).load(wells)
    finally:
        await redis.aclose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="wellstream-validator", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the validator (the default)")
    loader = commands.add_parser("load-reference", help="load well reference data into Redis")
    loader.add_argument("file", type=Path, help="a CSV or JSON file of wells")
    args = parser.parse_args(argv)
    settings = load(ValidatorSettings)
    logs.configure(settings.log_level, json=settings.log_json)
    if args.command == "load-reference":
        try:
            count = asyncio.run(load_reference(settings, args.file))
        except (OSError, ValueError) as exc:
            sys.exit(f"load-reference: {exc}")
        print(f"loaded {count} wells into {settings.redis_url.split('@')[-1]}")
        return
    serve(create_app(settings), settings.host, settings.port)
