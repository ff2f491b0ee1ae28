"""Fault cases around the writer: the validator killed, the broker restarted, Redis
down for the validator. Raw records go through a validator process and the writer
(in this process) into ClickHouse, and the accounting is exact per well and in total.

The validator may publish a record again after a crash (published, not yet
committed): the normalized topic then holds more messages than records went in, and
reads still see each record once (same ``record_id`` and ``version``).
"""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson

from contracts.identifiers import canonical_code
from runtime.clickhouse import ClickHouse
from runtime.kafka import ensure_topics
from wellstream import infra
from wellstream.chaos import data
from wellstream.chaos.cases import Result, Target, result_of, settings_for, time_budget
from writer.app import create_app
from writer.config import WriterSettings
from writer.handlers import consumer_group


@dataclass(frozen=True)
class Stack(Target):
    redis_url: str = "redis://127.0.0.1:6379/0"


@contextlib.contextmanager
def dedicated_kafka(workdir: Path) -> Iterator[tuple[str, int]]:
    """A broker of one case's own (it gets restarted): bootstrap and controller port."""
    port, controller = infra.free_port(), infra.free_port()
    args = ("--port", str(port), "--controller-port", str(controller), "--data-dir", str(workdir))
    infra.script("kafka.sh", "start", *args)
    try:
        yield f"127.0.0.1:{port}", controller
    finally:
        infra.script("kafka.sh", "stop", "--data-dir", str(workdir))


def _prefix() -> str:
    # Letters only, upper case: already in the validator's canonical form (which drops
    # leading zeros from digit runs, so "CA05..." would be stored as "CA5...").
    return "C" + uuid.uuid4().hex[:9].upper().translate(_DIGITS_TO_LETTERS)


_DIGITS_TO_LETTERS = str.maketrans("0123456789", "GHIJKLMNOP")


def _validator(
    settings: WriterSettings, redis_url: str, log: Path, **extra: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **{f"WELLSTREAM_{k.upper()}": v for k, v in extra.items()},
        "WELLSTREAM_PORT": str(infra.free_port()),
        "WELLSTREAM_LOG_LEVEL": "WARNING",
        "WELLSTREAM_REDIS_URL": redis_url,
        "WELLSTREAM_REFERENCE_RETRY_FOR_SECONDS": "3",
        "WELLSTREAM_BATCH_MAX_RECORDS": "5000",
    }
    shared = ("kafka_bootstrap_servers", "topic_raw", "topic_normalized", "topic_dlq")
    for name in (*shared, "consumer_group_prefix", "log_json"):
        env[f"WELLSTREAM_{name.upper()}"] = str(getattr(settings, name))
    command = [sys.executable, "-c", "from validator.app import main; main()"]
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=out)


@contextlib.asynccontextmanager
async def _validating(
    settings: WriterSettings, redis_url: str, log: Path, **extra: str
) -> AsyncIterator[list[subprocess.Popen[bytes]]]:
    """A validator process (the list holds the current one; a case may replace it)."""
    procs = [_validator(settings, redis_url, log, **extra)]
    try:
        yield procs
    finally:
        procs[-1].send_signal(signal.SIGTERM)
        await asyncio.to_thread(procs[-1].wait, 60)


async def _load_reference(redis_url: str, prefix: str, workdir: Path) -> None:
    wells = workdir / f"wells-{prefix}.json"
    names = [canonical_code(f"{prefix}-{w}") for w in range(data.WELLS)]
    wells.write_bytes(orjson.dumps([{"well_code": n, "operator": "chaos-op"} for n in names]))
    env = {**os.environ, "WELLSTREAM_REDIS_URL": redis_url}
    command = [sys.executable, "-c", "from validator.app import main; main()"]
    await asyncio.to_thread(
        subprocess.run, [*command, "load-reference", str(wells)], env=env, check=True, timeout=60
    )


async def _prepared(stack: Stack, records: int, **overrides: Any) -> tuple[str, WriterSettings]:
    prefix = _prefix()
    settings = settings_for(stack, prefix.lower(), **overrides)
    await ensure_topics(settings)
    await _load_reference(stack.redis_url, prefix, stack.workdir)
    await data.publish_raw(settings.kafka_bootstrap_servers, settings.topic_raw, records, prefix)
    return prefix, settings


def _validator_group(settings: WriterSettings) -> str:
    return f"{settings.consumer_group_prefix}.validator"


async def _drain(settings: WriterSettings, records: int) -> int:
    """Wait for the validator to commit every raw record and the writer every normalized
    message; return how many normalized messages there were."""
    bootstrap, deadline = settings.kafka_bootstrap_servers, time_budget(records)
    await data.wait_committed(bootstrap, _validator_group(settings), records, deadline)
    normalized = await data.end_offsets(bootstrap, settings.topic_normalized)
    await data.wait_committed(bootstrap, consumer_group(settings), normalized, deadline)
    return normalized


async def _finish(
    case: str, ch: ClickHouse, prefix: str, records: int, started: float, note: str
) -> Result:
    counts = await data.counts(ch, prefix)
    silent, flagged = await data.unenriched(ch, prefix)
    result = result_of(case, prefix, records, counts, started, note)
    note = f"{note}; {silent} unenriched unflagged, {flagged} flagged unknown"
    return replace(result, wells_exact=result.wells_exact and silent == 0, note=note)


async def kill_validator(
    stack: Stack, ch: ClickHouse, records: int, kill_at: float = 0.3
) -> Result:
    """kill -9 of the validator once ``kill_at`` of the raw records were committed, then
    a new validator process on the same group."""
    started = time.monotonic()
    prefix, settings = await _prepared(stack, records)
    log = stack.workdir / f"validator-{prefix}.log"
    app = create_app(settings)
    async with app.router.lifespan_context(app), _validating(settings, stack.redis_url, log) as p:
        reached = await data.wait_committed(
            settings.kafka_bootstrap_servers,
            _validator_group(settings),
            int(records * kill_at),
            time_budget(records),
            poll=0.05,
        )
        p[0].send_signal(signal.SIGKILL)
        await asyncio.to_thread(p[0].wait)
        p.append(_validator(settings, stack.redis_url, log))
        normalized = await _drain(settings, records)
    note = f"killed at {reached} committed; {normalized} normalized messages"
    return await _finish("validator kill -9", ch, prefix, records, started, note)


async def redis_down(
    stack: Stack, ch: ClickHouse, records: int, redis_dir: Path, down_seconds: float
) -> Result:
    """The validator's Redis stopped for ``down_seconds`` mid-stream, then started again
    on the same port: records wait (batches are redelivered), none is lost or goes on
    unenriched without a flag. ``stack.redis_url`` must be a Redis of this case alone."""
    started = time.monotonic()
    prefix, settings = await _prepared(stack, records)
    port = stack.redis_url.rsplit(":", 1)[1].split("/")[0]
    log = stack.workdir / f"validator-{prefix}.log"
    app = create_app(settings)
    # No in-process reference cache: every batch needs Redis, so the outage bites.
    validating = _validating(settings, stack.redis_url, log, reference_cache_ttl_seconds="0")
    async with app.router.lifespan_context(app), validating:
        reached = await data.wait_committed(
            settings.kafka_bootstrap_servers,
            _validator_group(settings),
            records // 5,
            time_budget(records),
            poll=0.05,
        )
        await asyncio.to_thread(infra.script, "redis.sh", "stop", "--data-dir", str(redis_dir))
        await asyncio.sleep(down_seconds)
        start = ("redis.sh", "start", "--port", port, "--data-dir", str(redis_dir))
        await asyncio.to_thread(infra.script, *start)
        normalized = await _drain(settings, records)
    note = f"Redis down {down_seconds:g}s from {reached} committed; {normalized} normalized"
    return await _finish("Redis down (validator)", ch, prefix, records, started, note)


async def broker_restart(
    stack: Stack, ch: ClickHouse, records: int, kafka_dir: Path, controller_port: int
) -> Result:
    """The broker stopped and started again (same data, same ports) while the validator
    and the writer run. ``stack.bootstrap`` must be a broker of this case alone."""
    started = time.monotonic()
    prefix, settings = await _prepared(stack, records)
    port = stack.bootstrap.rsplit(":", 1)[1]
    log = stack.workdir / f"validator-{prefix}.log"
    app = create_app(settings)
    async with app.router.lifespan_context(app), _validating(settings, stack.redis_url, log):
        reached = await data.wait_committed(
            settings.kafka_bootstrap_servers,
            _validator_group(settings),
            records // 4,
            time_budget(records),
            poll=0.05,
        )
        await asyncio.to_thread(infra.script, "kafka.sh", "stop", "--data-dir", str(kafka_dir))
        restart = ("--port", port, "--controller-port", str(controller_port))
        await asyncio.to_thread(
            infra.script, "kafka.sh", "start", *restart, "--data-dir", str(kafka_dir)
        )
        normalized = await _drain(settings, records)
    note = f"broker restarted at {reached} committed; {normalized} normalized"
    return await _finish("broker restart", ch, prefix, records, started, note)
