"""End to end, each stage a process of its own: records/s from a preloaded raw topic
until the writers' consumer group committed every normalized offset (the writer commits
only once its insert is durable), through the validator and the writer as deployed
(their entry points and ``WELLSTREAM_*`` settings); against a bare pipeline in processes
of its own (``wellstream.bench.bare``) on the same broker and engine, measured the same
way. The clock starts once the stage processes are ready and the raw topic is loaded.

Then freshness, at each rate of ``WELLSTREAM_BENCH_FRESHNESS_RATE`` (records/s,
comma-separated: 10,000 and 2,500): records offered for
``WELLSTREAM_BENCH_FRESHNESS_SECONDS`` (20) in small paced batches, each carrying its
send time as its Kafka time, which the validator keeps as ``ingested_at``; the p50 and
p99 of ``inserted_at - ingested_at`` over the rows, read once the writer stopped.

The embedded engine allows one process per data directory: each run's writer (or bare
inserter) gets a directory of its own, and its rows are counted by a process started
once it stopped.
"""

import asyncio
import os
import subprocess
import sys
import time

import orjson

from runtime import kafka
from runtime.settings import Settings
from wellstream.bench.data import raw_records
from wellstream.bench.environment import environment, fresh_topics, preload, producer
from wellstream.bench.processes import Commits, Stage, bare, running, service
from wellstream.bench.report import Latency, Result

RATES = tuple(
    int(rate) for rate in os.environ.get("WELLSTREAM_BENCH_FRESHNESS_RATE", "10000,2500").split(",")
)
SECONDS = float(os.environ.get("WELLSTREAM_BENCH_FRESHNESS_SECONDS", "20"))
_TICK = 0.01  # the paced producer sends rate * _TICK records every _TICK seconds


def run(records: int, runs: int) -> list[Result]:
    with environment():
        return asyncio.run(_measure(records, runs))


async def _measure(records: int, runs: int) -> list[Result]:
    pipeline: list[float] = []
    floor: list[float] = []
    for run_no in range(runs):
        source = f"bench-{run_no}-{time.time_ns()}"
        payloads = raw_records(records, seed=run_no, source=source)
        floor.append(await _throughput("floor", f"floor-{run_no}", payloads, source))
        pipeline.append(await _throughput("pipeline", f"pipeline-{run_no}", payloads, source))
        print(f"   run {run_no + 1}: pipeline {pipeline[-1]:,.0f}/s, floor {floor[-1]:,.0f}/s")
    results: list[Result] = [
        Result(
            "pipeline raw->committed",
            "records/s",
            pipeline,
            "bare pipeline in processes",
            floor,
            target=0.8,
        )
    ]
    results.extend([await _freshness_runs(rate, runs) for rate in RATES])
    return results


async def _freshness_runs(rate: int, runs: int) -> Latency:
    offered, p50, p99 = [], [], []
    for run_no in range(runs):
        tag = f"fresh-{rate}-{run_no}"
        achieved, found = await _freshness(rate, tag, f"{tag}-{time.time_ns()}")
        offered.append(achieved)
        p50.append(found["p50_ms"])
        p99.append(found["p99_ms"])
        print(
            f"   freshness {run_no + 1} at {rate:,}/s: {achieved:,.0f}/s offered,"
            f" p50 {p50[-1]:.0f} ms, p99 {p99[-1]:.0f} ms"
        )
    return Latency(
        f"pipeline freshness at {rate:,}/s asked, offered",
        "records/s",
        offered,
        p50_ms=tuple(p50),
        p99_ms=tuple(p99),
        p99_target_ms=2000,
    )


def _stages(kind: str, env: dict[str, str]) -> list[Stage]:
    """The writing stage first: it applies the migrations."""
    if kind == "floor":
        return [bare("insert", "insert", env), bare("validate", "validate", env)]
    return [
        service("writer", "wellstream-writer", env),
        service("validator", "wellstream-validator", env),
    ]


def _env(tag: str) -> dict[str, str]:
    """The stages' environment: this run's topics and groups (``fresh_topics``), and an
    engine directory of the run's own."""
    url = os.environ["WELLSTREAM_CLICKHOUSE_URL"]
    if url.startswith("chdb://"):
        url = f"{url.rstrip('/')}/{tag}"
    return {**os.environ, "WELLSTREAM_CLICKHOUSE_URL": url}


async def _topics() -> tuple[Settings, str]:
    topics = fresh_topics()
    settings = Settings()
    await kafka.ensure_topics(settings)
    return settings, topics["WELLSTREAM_TOPIC_RAW"]


def _keys(payloads: list[bytes]) -> list[bytes]:
    return [orjson.loads(p)["well_code"].encode() for p in payloads]


async def _throughput(kind: str, tag: str, payloads: list[bytes], source: str) -> float:
    settings, raw = await _topics()
    await preload(raw, payloads, _keys(payloads))
    env = _env(tag)
    async with Commits(settings) as commits, running(_stages(kind, env), tag):
        started = time.perf_counter()
        await commits.wait()
        elapsed = time.perf_counter() - started
    _rows(env, source, len(payloads))
    return len(payloads) / elapsed


async def _freshness(rate: int, tag: str, source: str) -> tuple[float, dict[str, float]]:
    settings, raw = await _topics()
    payloads = raw_records(int(rate * SECONDS), seed=99, source=source)
    env = _env(tag)
    async with Commits(settings) as commits, running(_stages("pipeline", env), tag):
        achieved = await _offer(raw, payloads, _keys(payloads), rate)
        await commits.wait()
    return achieved, _rows(env, source, len(payloads))


async def _offer(topic: str, payloads: list[bytes], keys: list[bytes], rate: int) -> float:
    """Send ``payloads`` at ``rate`` per second, a small batch every ``_TICK``; the rate
    achieved."""
    step = max(1, int(rate * _TICK))
    sender = producer()
    await sender.start()
    try:
        started, pending = time.perf_counter(), []
        for tick, first in enumerate(range(0, len(payloads), step)):
            delay = started + tick * _TICK - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            for value, key in zip(
                payloads[first : first + step], keys[first : first + step], strict=True
            ):
                pending.append(await sender.send(topic, value, key=key))
        await asyncio.gather(*pending)
        return len(payloads) / (time.perf_counter() - started)
    finally:
        await sender.stop()


def _rows(env: dict[str, str], source: str, expected: int) -> dict[str, float]:
    """The rows of ``source`` and their freshness, counted by a process of their own
    once the writing stage stopped; every record must be there."""
    command = [sys.executable, "-m", "wellstream.bench.bare", "query", source]
    done = subprocess.run(command, env=env, capture_output=True, check=True, timeout=300)
    found: dict[str, float] = orjson.loads(done.stdout.splitlines()[-1])
    if found["rows"] != expected:
        raise RuntimeError(f"{found['rows']:.0f} rows of {expected} inserted")
    return found
