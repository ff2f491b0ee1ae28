"""Local mode: a real Kafka broker, Redis, the embedded ClickHouse engine and all four
services in one process (the embedded engine allows one process per data directory).

Data is kept under ``.data/`` so a restart resumes where it stopped. Ctrl-C stops
everything, the broker included.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path

import orjson
import uvicorn
from fastapi import FastAPI

from runtime import logs
from runtime.http import freeze_objects
from wellstream import infra

DATA = Path(os.environ.get("WELLSTREAM_DATA_DIR", infra.ROOT / ".data")).resolve()
KAFKA_PORT = int(os.environ.get("WELLSTREAM_LOCAL_KAFKA_PORT", "9092"))
REDIS_PORT = int(os.environ.get("WELLSTREAM_LOCAL_REDIS_PORT", "6379"))
PORTS = {"gateway": 8000, "ingestor": 8001, "validator": 8002, "writer": 8003}


@contextlib.contextmanager
def infrastructure() -> Iterator[None]:
    """Start Kafka and Redis unless ``WELLSTREAM_*`` already points at running ones."""
    with contextlib.ExitStack() as stack:
        if "WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS" not in os.environ:
            servers = stack.enter_context(infra.kafka(DATA / "kafka", KAFKA_PORT))
            os.environ["WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS"] = servers
        if "WELLSTREAM_REDIS_URL" not in os.environ:
            url = stack.enter_context(infra.redis(DATA / "redis", REDIS_PORT))
            os.environ["WELLSTREAM_REDIS_URL"] = url
        os.environ.setdefault("WELLSTREAM_CLICKHOUSE_URL", f"chdb://{DATA / 'clickhouse'}")
        yield


def dev_api_key() -> str:
    """Local mode's key: taken from ``WELLSTREAM_API_KEYS`` when set, else generated once
    and kept in ``.data/dev-api-key`` (never a key written into the code)."""
    if configured := os.environ.get("WELLSTREAM_API_KEYS"):
        keys = orjson.loads(configured)
        return str(keys[0]["key"]) if keys else ""
    path = DATA / "dev-api-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created owner-only (0600) from the start: a key written world-readable and
        # chmod-ed after would be readable in between.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(24))
    path.chmod(0o600)  # a key file left by an older version was world-readable
    key = path.read_text().strip()
    scopes = ["read", "ingest", "admin"]
    os.environ["WELLSTREAM_API_KEYS"] = orjson.dumps(
        [{"name": "local", "key": key, "scopes": scopes}]
    ).decode()
    return key


def build_apps() -> dict[str, FastAPI]:
    from gateway.app import create_app as gateway_app
    from gateway.config import GatewaySettings
    from ingestor.app import create_app as ingestor_app
    from ingestor.config import IngestorSettings
    from runtime.settings import load
    from validator.app import create_app as validator_app
    from validator.config import ValidatorSettings
    from writer.app import create_app as writer_app
    from writer.config import WriterSettings

    # The writer starts first in the list: it applies migrations at start-up.
    return {
        "writer": writer_app(load(WriterSettings, port=PORTS["writer"])),
        "validator": validator_app(load(ValidatorSettings, port=PORTS["validator"])),
        "ingestor": ingestor_app(load(IngestorSettings, port=PORTS["ingestor"])),
        "gateway": gateway_app(load(GatewaySettings, port=PORTS["gateway"])),
    }


def banner(key: str) -> str:
    record = '[{"well_code": "7-MRL-123D-RJS", "production_period": "2024-01", '
    record += (
        '"oil_production_kbd": 1.25, "gas_production_mmcfd": 3.1, "water_production_kbd": 0.4}]'
    )
    return f"""
wellstream is running (data in {DATA})
  gateway    http://127.0.0.1:{PORTS["gateway"]}/docs
  ingestor   http://127.0.0.1:{PORTS["ingestor"]}/docs
  validator  http://127.0.0.1:{PORTS["validator"]}/health/ready
  writer     http://127.0.0.1:{PORTS["writer"]}/health/ready
  kafka      {os.environ["WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS"]}
  redis      {os.environ["WELLSTREAM_REDIS_URL"]}
  clickhouse {os.environ["WELLSTREAM_CLICKHOUSE_URL"]}
  API key    {key}   (all scopes; kept in {DATA / "dev-api-key"})

Send a record, then read it back:
  curl -s -X POST http://127.0.0.1:{PORTS["ingestor"]}/api/v1/records \\
    -H 'X-API-Key: {key}' -H 'Content-Type: application/json' \\
    -d '{record}'
  sleep 2; curl -s -H 'X-API-Key: {key}' \\
    'http://127.0.0.1:{PORTS["gateway"]}/api/v1/wells/7-MRL-123D-RJS/production?granularity=month'

Ctrl-C stops everything.
"""


class _Server(uvicorn.Server):
    """A server among several in one process: ``serve`` handles the signals once for
    all of them. (Each uvicorn server installs its own handlers and raises the signal
    again once it stopped; with four of them, one Ctrl-C stopped one server and the
    signal raised again cancelled the others mid-shutdown, hanging the exit.)"""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(apps: dict[str, FastAPI], key: str) -> None:
    servers: list[uvicorn.Server] = []
    for name, app in apps.items():
        config = uvicorn.Config(
            app, host="127.0.0.1", port=PORTS[name], log_config=None, lifespan="on"
        )
        servers.append(_Server(config))

    def stop() -> None:  # every server shuts down gracefully, however many signals come
        for server in servers:
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    # Start the writer first so migrations exist before anything reads.
    first = asyncio.create_task(servers[0].serve())
    await _started(servers[:1], [first])
    rest = [asyncio.create_task(s.serve()) for s in servers[1:]]
    await _started(servers[1:], rest)
    freeze_objects()
    print(banner(key), flush=True)
    await asyncio.gather(first, *rest)


async def _started(servers: list[uvicorn.Server], tasks: list[asyncio.Task[None]]) -> None:
    # uvicorn exposes only a flag for "started"; poll it, and stop waiting if one failed.
    while not all(s.started for s in servers):
        if any(t.done() for t in tasks):
            await asyncio.gather(*tasks)  # re-raises the start-up failure
            return
        await asyncio.sleep(0.1)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run() -> None:
    # SIGTERM (a supervisor, `timeout`) stops everything as Ctrl-C does, broker included:
    # while the services start, both interrupt; while they run, `serve` handles both.
    signal.signal(signal.SIGTERM, _interrupt)
    logs.configure(os.environ.get("WELLSTREAM_LOG_LEVEL", "INFO"), json=False)
    with infrastructure():
        key = dev_api_key()
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(build_apps(), key))
        # Stopping: a repeated Ctrl-C (``uv run`` forwards the terminal's, so one press
        # can arrive twice) must not cut the broker's and Redis' stop short.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
