"""``wellstream backup`` and ``restore`` end to end on the embedded engine and the real
broker: load, back up, load more, destroy, restore, replay, compare every well-month.

The backed-up engine has a data directory of its own. chDB allows one engine per
process, so everything on it runs in subprocesses: the writer (``python -m writer.app``),
the two commands and the reads. The reference is the session's engine, never destroyed,
fed the same topic by a writer of its own group.
"""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from contracts import CanonicalRecord, topics
from contracts.records import encode
from runtime import kafka
from runtime.clickhouse import ClickHouse
from runtime.kafka import ensure_topics
from wellstream import offsets
from wellstream.chaos import data as chaos
from wellstream.infra import free_port
from writer.app import create_app
from writer.config import WriterSettings
from writer.handlers import consumer_group

pytestmark = pytest.mark.integration

WELLS = 20
BEFORE = 2_000  # 20 wells x 100 months, version 1: in the backup
REVISED = 400  # records 0..399 again at version 2, after the backup
ADDED = 600  # months 100..129, after the backup
RAW = 10  # raw records the validator group has committed past

WELL_MONTHS = """
SELECT well_code, toString(period_start), argMax(version, version), argMax(oil_bbl, version),
       argMax(gas_mcf, version), argMax(water_bbl, version), argMax(record_id, version)
FROM production WHERE startsWith(well_code, {p:String})
GROUP BY well_code, period_start ORDER BY well_code, period_start
"""
VERSIONS = """
SELECT count() FROM (SELECT record_id, version FROM production_history
    WHERE startsWith(well_code, {p:String}) GROUP BY record_id, version)
"""
_READ = """
import asyncio, json, sys
from runtime.clickhouse import ClickHouse, connect
from tests.integration.test_backup import read
ch = ClickHouse(connect(sys.argv[1]))
print(json.dumps(asyncio.run(read(ch, sys.argv[2]))))
"""


def record(i: int, prefix: str, version: int = 1) -> CanonicalRecord:
    """The ``i``-th monthly record of wells ``{prefix}-0 .. -19`` at ``version``."""
    month = i // WELLS
    start = date(2000 + month // 12, month % 12 + 1, 1)
    well = f"{prefix}-{i % WELLS}"
    return msgspec.structs.replace(
        chaos.canonical(i, prefix, version),
        well_code=well,
        well_code_raw=well,
        period=start.strftime("%Y-%m"),
        period_start=start,
        period_type="month",
        days_in_period=30,
        oil_bbl=1000.0 * version + i,
        gas_mcf=float(i % 13),
        water_bbl=float(version),
    )


async def publish(settings: WriterSettings, records: Sequence[CanonicalRecord]) -> None:
    producer = AIOKafkaProducer(**kafka.producer_config(settings))
    await producer.start()
    try:
        headers = [(topics.HEADER_SCHEMA_VERSION, b"1")]
        sent = [
            await producer.send(
                settings.topic_normalized, encode(r), key=r.well_code.encode(), headers=headers
            )
            for r in records
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def read(ch: ClickHouse, prefix: str) -> dict[str, Any]:
    """Every well-month as the reads see it (argMax by version), and the versions."""
    params = {"p": f"{prefix}-"}
    months = await ch.rows(WELL_MONTHS, parameters=params)
    ((versions,),) = await ch.rows(VERSIONS, parameters=params)
    return {"months": [list(row) for row in months], "versions": int(versions)}


def read_in_subprocess(url: str, prefix: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _READ, url, prefix],
        capture_output=True,
        check=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def wellstream(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "wellstream"), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def _writer(env: dict[str, str]) -> subprocess.Popen[bytes]:
    writer_env = {**env, "WELLSTREAM_PORT": str(free_port()), "WELLSTREAM_LOG_LEVEL": "WARNING"}
    return subprocess.Popen(
        [sys.executable, "-m", "writer.app"], env=writer_env, stderr=subprocess.PIPE
    )


async def write_until(env: dict[str, str], settings: WriterSettings, committed: int) -> None:
    """Run a writer process on ``env`` until its group committed ``committed`` offsets,
    then stop it as an orchestrator does (SIGTERM: it leaves its group)."""
    process = _writer(env)
    try:
        group = consumer_group(settings)
        reached = await chaos.wait_committed(
            settings.kafka_bootstrap_servers, group, committed, 120
        )
        assert reached == committed, f"the writer committed {reached} of {committed}"
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=60)
    # uvicorn shuts down on SIGTERM, then re-raises it: -15 is a clean stop
    assert process.returncode in (0, -signal.SIGTERM), stderr.decode()[-2000:]


async def commit_raw(settings: WriterSettings, group: str) -> None:
    """``RAW`` raw records, and ``group`` committed past them (as a validator would)."""
    producer = AIOKafkaProducer(**kafka.producer_config(settings))
    await producer.start()
    try:
        for i in range(RAW):
            await producer.send_and_wait(settings.topic_raw, b"{}", key=str(i).encode())
    finally:
        await producer.stop()
    raw = offsets.groups(settings)["validator"]
    tps = [TopicPartition(raw.topic, p) for p in range(settings.topic_partitions)]
    consumer = AIOKafkaConsumer(**kafka.connection(settings))
    await consumer.start()
    try:
        ends = await consumer.end_offsets(tps)
    finally:
        await offsets.stop(consumer)
    await offsets.reset(settings, raw, {tp.partition: o for tp, o in ends.items()})


async def reference(settings: WriterSettings, clickhouse: ClickHouse, prefix: str) -> Any:
    """The session's engine fed the whole topic by a writer of another group."""
    own = settings.model_copy(
        update={"consumer_group_prefix": f"{settings.consumer_group_prefix}.reference"}
    )
    app = create_app(own)
    async with app.router.lifespan_context(app):
        total = BEFORE + REVISED + ADDED
        reached = await chaos.wait_committed(
            settings.kafka_bootstrap_servers, consumer_group(own), total, 120
        )
        assert reached == total
    return await read(clickhouse, prefix)


async def test_backup_restore_and_replay_read_as_never_destroyed(
    clickhouse: ClickHouse, unique: str, settings_env: dict[str, str], tmp_path: Path
) -> None:
    settings = WriterSettings(batch_max_wait_ms=100)
    await ensure_topics(settings)
    data = tmp_path / "clickhouse"
    env = {
        **os.environ,
        **settings_env,
        "WELLSTREAM_CLICKHOUSE_URL": f"chdb://{data}",
        "WELLSTREAM_BATCH_MAX_WAIT_MS": "100",
    }
    await publish(settings, [record(i, unique) for i in range(BEFORE)])
    await write_until(env, settings, BEFORE)
    await commit_raw(settings, f"{unique}.validator")

    made = wellstream(env, "backup", str(tmp_path / "backups" / "one"))
    assert made.returncode == 0, made.stderr
    manifest = json.loads((tmp_path / "backups" / "one.manifest.json").read_text())
    groups = manifest["groups"]
    assert sum(o or 0 for o in groups["writer"]["offsets"].values()) == BEFORE
    assert sum(o or 0 for o in groups["validator"]["offsets"].values()) == RAW
    assert groups["writer"]["group"] == f"test.{unique}.writer"
    assert "backing up" in made.stderr

    after = [record(i, unique, version=2) for i in range(REVISED)]
    after += [record(i, unique) for i in range(BEFORE, BEFORE + ADDED)]
    await publish(settings, after)
    await write_until(env, settings, BEFORE + REVISED + ADDED)
    shutil.rmtree(data)

    restored = wellstream(env, "restore", str(tmp_path / "backups" / "one"))
    assert restored.returncode == 0, restored.stderr
    assert f"production_history: {BEFORE} rows" in restored.stderr
    assert f"test.{unique}.writer on test.{unique}.normalized: offsets" in restored.stderr
    assert (
        await chaos.committed(settings.kafka_bootstrap_servers, consumer_group(settings)) == BEFORE
    )
    at_backup = read_in_subprocess(env["WELLSTREAM_CLICKHOUSE_URL"], unique)
    assert (len(at_backup["months"]), at_backup["versions"]) == (BEFORE, BEFORE)

    await write_until(env, settings, BEFORE + REVISED + ADDED)
    replayed = read_in_subprocess(env["WELLSTREAM_CLICKHOUSE_URL"], unique)
    expected = await reference(settings, clickhouse, unique)

    assert len(expected["months"]) == BEFORE + ADDED
    assert expected["versions"] == BEFORE + REVISED + ADDED
    assert sum(1 for m in expected["months"] if m[2] == 2) == REVISED
    assert len({m[0] for m in expected["months"]}) == WELLS
    assert replayed == expected


async def test_restore_refuses_while_a_writer_is_a_member(
    unique: str, settings_env: dict[str, str]
) -> None:
    settings = WriterSettings()
    await ensure_topics(settings)
    group = offsets.groups(settings)["writer"]
    member = AIOKafkaConsumer(**kafka.connection(settings), group_id=group.name)
    member.subscribe([group.topic])
    await member.start()
    try:
        await member.getmany(timeout_ms=3000)  # joins the group
        with pytest.raises(offsets.OffsetsError, match="1 active member"):
            await offsets.ensure_idle(settings, [group])
    finally:
        await member.stop()
    await offsets.ensure_idle(settings, [group])
