"""The fault cases. Each publishes ``records`` canonical records for wells of its own,
runs the writer through one fault, and returns exact accounting: 0 lost, 0 doubled.

In-process cases run the writer app in this process against ``target.clickhouse_url``
and count through the caller's client. The kill -9 case runs the writer as a separate
process; chDB allows one process per data directory, so that process gets a fresh
directory and the counting is done by another short process once the writer is dead.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY

from runtime.clickhouse import ClickHouse, connect
from runtime.kafka import ensure_topics
from wellstream.chaos import data
from wellstream.chaos.faults import Outage, faulty
from wellstream.infra import free_port
from writer.app import create_app
from writer.config import WriterSettings
from writer.handlers import consumer_group


@dataclass(frozen=True)
class Target:
    bootstrap: str
    clickhouse_url: str
    workdir: Path


@dataclass(frozen=True)
class Result:
    case: str
    records: int
    current: int
    versions: int
    history_rows: int
    wells_exact: bool
    seconds: float
    note: str = ""

    @property
    def lost(self) -> int:
        return max(self.records - self.current, 0)

    @property
    def doubled(self) -> int:
        """Records read more than once: extra current rows, or extra versions in history."""
        return max(self.current - self.records, 0) + max(self.versions - self.records, 0)


def time_budget(records: int) -> float:
    return 60 + records / 2_000


def settings_for(target: Target, tag: str, **overrides: Any) -> WriterSettings:
    return WriterSettings(
        kafka_bootstrap_servers=target.bootstrap,
        clickhouse_url=target.clickhouse_url,
        topic_raw=f"chaos.{tag}.raw",
        topic_normalized=f"chaos.{tag}.normalized",
        topic_dlq=f"chaos.{tag}.dlq",
        consumer_group_prefix=f"chaos.{tag}",
        log_json=False,
        session_timeout_ms=6_000,  # the broker's minimum: a killed writer's partitions move sooner
        **overrides,
    )


def result_of(
    case: str, prefix: str, records: int, counts: data.Counts, started: float, note: str = ""
) -> Result:
    exact = counts.per_well == data.expected_per_well(records, prefix) and abs(
        counts.oil_total - data.expected_oil(records)
    ) < 1e-6 * max(records, 1)
    return Result(
        case,
        records,
        counts.current,
        counts.versions,
        counts.history_rows,
        exact,
        round(time.monotonic() - started, 1),
        note,
    )


async def _publish(settings: WriterSettings, records: int, prefix: str) -> None:
    await ensure_topics(settings)
    await data.publish(settings.kafka_bootstrap_servers, settings.topic_normalized, records, prefix)


async def replay(target: Target, ch: ClickHouse, records: int) -> Result:
    """Consume everything, then consume it all again with a new group from offset 0."""
    prefix = uuid.uuid4().hex[:10]
    settings = settings_for(target, prefix)
    started = time.monotonic()
    await _publish(settings, records, prefix)
    for run in (
        settings,
        settings.model_copy(update={"consumer_group_prefix": f"chaos.{prefix}.replay"}),
    ):
        app = create_app(run)
        async with app.router.lifespan_context(app):
            await data.wait_committed(
                target.bootstrap, consumer_group(run), records, time_budget(records)
            )
    return result_of(
        "replay from offset 0", prefix, records, await data.counts(ch, prefix), started
    )


async def clickhouse_outage(
    target: Target, ch: ClickHouse, records: int, outage_seconds: float, retry_seconds: float
) -> Result:
    """ClickHouse unreachable for ``outage_seconds`` mid-stream. The adapter retries for
    ``retry_seconds``; a longer outage rewinds the batch, which is delivered again."""
    prefix = uuid.uuid4().hex[:10]
    settings = settings_for(target, prefix, insert_retry_seconds=retry_seconds)
    started = time.monotonic()
    await _publish(settings, records, prefix)
    outage = Outage()
    client = ClickHouse(faulty(connect(target.clickhouse_url), outage), retry_for=retry_seconds)
    rewinds = _rewinds()
    app = create_app(settings, clickhouse=client)
    try:
        async with app.router.lifespan_context(app):
            await data.wait_committed(
                target.bootstrap, consumer_group(settings), records // 5, time_budget(records)
            )
            outage.start(outage_seconds)
            await data.wait_committed(
                target.bootstrap,
                consumer_group(settings),
                records,
                time_budget(records) + outage_seconds,
            )
    finally:
        client.close()
    rewinds = _rewinds() - rewinds
    note = f"{outage_seconds:g}s down: {outage.failures} failed calls, {rewinds:g} batches rewound"
    return result_of(
        "ClickHouse down", prefix, records, await data.counts(ch, prefix), started, note
    )


async def rebalance(
    target: Target, ch: ClickHouse, records: int, insert_delay: float = 0.3
) -> Result:
    """A second writer joins the group once a fifth of the records is committed and
    leaves again at three fifths: partitions move twice, while inserts are in flight
    (each insert is held ``insert_delay`` seconds, as on a loaded server). Batches are
    small so that every partition has some on the way when it moves."""
    prefix = uuid.uuid4().hex[:10]
    settings = settings_for(target, prefix, batch_max_records=2_000)
    started = time.monotonic()
    await _publish(settings, records, prefix)
    group, deadline = consumer_group(settings), time_budget(records)
    before = _rebalances()
    clients = [
        ClickHouse(faulty(connect(target.clickhouse_url), Outage(), insert_delay)) for _ in range(2)
    ]
    first, second = (create_app(settings, clickhouse=client) for client in clients)
    try:
        async with first.router.lifespan_context(first):
            await data.wait_committed(target.bootstrap, group, records // 5, deadline)
            async with second.router.lifespan_context(second):
                await data.wait_committed(target.bootstrap, group, records * 3 // 5, deadline)
            await data.wait_committed(target.bootstrap, group, records, deadline)
    finally:
        for client in clients:
            client.close()
    moved = {event: count - before[event] for event, count in _rebalances().items()}
    note = f"{moved['assigned']:g} partitions assigned, {moved['revoked']:g} revoked"
    return result_of("rebalance", prefix, records, await data.counts(ch, prefix), started, note)


def _counted(counter: str, labels: dict[str, str]) -> float:
    """A writer counter as this process's writers have counted it so far."""
    return REGISTRY.get_sample_value(f"wellstream_writer_{counter}_total", labels) or 0.0


def _rebalances() -> dict[str, float]:
    return {event: _counted("rebalances", {"event": event}) for event in ("assigned", "revoked")}


def _rewinds() -> float:
    return _counted("batch_failures", {"topic": "normalized"})


def _spawn(settings: WriterSettings, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "WELLSTREAM_PORT": str(free_port()), "WELLSTREAM_LOG_LEVEL": "WARNING"}
    for name, value in settings.model_dump(include={*_SHARED}).items():
        env[f"WELLSTREAM_{name.upper()}"] = str(value)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "writer.app"], env=env, stdout=out, stderr=out
        )


_SHARED = (
    "kafka_bootstrap_servers",
    "clickhouse_url",
    "topic_raw",
    "topic_normalized",
    "topic_dlq",
    "consumer_group_prefix",
    "log_json",
    "session_timeout_ms",
)


def count_in_subprocess(url: str, prefix: str) -> data.Counts:
    command = [
        sys.executable,
        "-m",
        "wellstream.chaos",
        "count",
        "--clickhouse-url",
        url,
        "--prefix",
        prefix,
    ]
    out = subprocess.run(command, check=True, capture_output=True, timeout=120).stdout
    return data.Counts(**json.loads(out))


async def kill_writer(target: Target, records: int, kill_at: float = 0.3) -> Result:
    """kill -9 of a writer process once ``kill_at`` of the records were committed, then a
    new writer process on the same group and the same ClickHouse data."""
    prefix = uuid.uuid4().hex[:10]
    url = f"chdb://{target.workdir / f'kill-{prefix}'}"
    settings = settings_for(target, prefix).model_copy(update={"clickhouse_url": url})
    started = time.monotonic()
    await _publish(settings, records, prefix)
    log = target.workdir / f"kill-{prefix}.log"
    group, deadline = consumer_group(settings), time_budget(records)
    first = _spawn(settings, log)
    try:
        reached = await data.wait_committed(
            target.bootstrap, group, int(records * kill_at), deadline, poll=0.05
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    second = _spawn(settings, log)
    try:
        await data.wait_committed(target.bootstrap, group, records, deadline)
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.to_thread(second.wait, 60)
    counts = await asyncio.to_thread(count_in_subprocess, url, prefix)
    return result_of(
        "writer kill -9", prefix, records, counts, started, f"killed at {reached} committed"
    )


def as_row(result: Result) -> dict[str, Any]:
    return {**asdict(result), "lost": result.lost, "doubled": result.doubled}
