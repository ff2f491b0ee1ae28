"""End to end: records/s from the raw topic to queryable rows, through the validator and
the writer as they run in production; against a bare two-stage floor (consume → validate
→ produce → consume → insert, nothing else) on the same broker and engine."""

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator

import orjson
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI

from contracts import RawRecord
from runtime import kafka
from runtime.clickhouse import ClickHouse, connect
from runtime.settings import Settings
from wellstream.bench.data import raw_records
from wellstream.bench.environment import environment, fresh_topics, preload, producer
from wellstream.bench.report import Result

_FLOOR_TABLE = "bench_floor"
_FLOOR_COLUMNS = [
    "well_code",
    "production_period",
    "days_on_production",
    "oil_production_kbd",
    "gas_production_mmcfd",
    "water_production_kbd",
    "data_source",
]


def run(records: int, runs: int) -> list[Result]:
    with environment():
        return asyncio.run(_measure(records, runs))


async def _measure(records: int, runs: int) -> list[Result]:
    from writer.schema import migrate

    ch = ClickHouse(connect(os.environ["WELLSTREAM_CLICKHOUSE_URL"]))
    await migrate(ch)
    await ch.command(
        f"CREATE TABLE IF NOT EXISTS {_FLOOR_TABLE} (well_code String, production_period String,"
        " days_on_production Nullable(Float64), oil_production_kbd Nullable(Float64),"
        " gas_production_mmcfd Nullable(Float64), water_production_kbd Nullable(Float64),"
        " data_source String) ENGINE = MergeTree ORDER BY (well_code, production_period)"
    )
    pipeline, floor = [], []
    for run_no in range(runs):
        source = f"bench-{run_no}-{time.time_ns()}"
        payloads = raw_records(records, seed=run_no, source=source)
        keys = [orjson.loads(p)["well_code"].encode() for p in payloads]
        floor.append(await _floor_once(ch, payloads, keys, source))
        pipeline.append(await _pipeline_once(ch, payloads, keys, source))
        print(f"   run {run_no + 1}: pipeline {pipeline[-1]:,.0f}/s, floor {floor[-1]:,.0f}/s")
    ch.close()
    return [Result("pipeline raw->queryable", "records/s", pipeline, "bare two-stage floor", floor)]


async def _count(ch: ClickHouse, sql: str, source: str) -> int:
    rows = await ch.rows(sql, parameters={"source": source})
    return int(rows[0][0])


async def _until(ch: ClickHouse, sql: str, source: str, expected: int) -> None:
    deadline = time.monotonic() + 600
    while await _count(ch, sql, source) < expected:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {await _count(ch, sql, source)} of {expected} rows arrived")
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def _services() -> AsyncIterator[None]:
    from runtime.settings import load
    from validator.app import create_app as validator_app
    from validator.config import ValidatorSettings
    from writer.app import create_app as writer_app
    from writer.config import WriterSettings

    apps: list[FastAPI] = [writer_app(load(WriterSettings)), validator_app(load(ValidatorSettings))]
    async with contextlib.AsyncExitStack() as stack:
        for app in apps:
            await stack.enter_async_context(app.router.lifespan_context(app))
        yield


async def _pipeline_once(
    ch: ClickHouse, payloads: list[bytes], keys: list[bytes], source: str
) -> float:
    topics = fresh_topics()
    await preload(topics["WELLSTREAM_TOPIC_RAW"], payloads, keys)
    sql = "SELECT uniqExact(record_id) FROM production WHERE data_source = {source:String}"
    started = time.perf_counter()
    async with _services():
        await _until(ch, sql, source, len(payloads))
    return len(payloads) / (time.perf_counter() - started)


async def _floor_once(
    ch: ClickHouse, payloads: list[bytes], keys: list[bytes], source: str
) -> float:
    topics = fresh_topics()
    raw, middle = topics["WELLSTREAM_TOPIC_RAW"], topics["WELLSTREAM_TOPIC_NORMALIZED"]
    await preload(raw, payloads, keys)
    group = topics["WELLSTREAM_CONSUMER_GROUP_PREFIX"]
    sql = f"SELECT count() FROM {_FLOOR_TABLE} WHERE data_source = {{source:String}}"
    started = time.perf_counter()
    stages = [
        asyncio.create_task(_floor_validate(raw, middle, f"{group}.a")),
        asyncio.create_task(_floor_insert(ch, middle, f"{group}.b")),
    ]
    try:
        await _until(ch, sql, source, len(payloads))
    finally:
        for task in stages:
            task.cancel()
        await asyncio.gather(*stages, return_exceptions=True)
    return len(payloads) / (time.perf_counter() - started)


def _consumer(topic: str, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topic,
        **kafka.connection(Settings()),
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )


async def _floor_validate(source: str, target: str, group: str) -> None:
    consumer, sender = _consumer(source, group), producer()
    await consumer.start()
    await sender.start()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=200, max_records=10_000)
            pending = []
            for messages in batches.values():
                for message in messages:
                    record = RawRecord.model_validate_json(message.value)
                    body = record.model_dump_json().encode()
                    pending.append(await sender.send(target, body, key=message.key))
            await asyncio.gather(*pending)
            if pending:
                await consumer.commit()
    finally:
        await consumer.stop()
        await sender.stop()


async def _floor_insert(ch: ClickHouse, source: str, group: str) -> None:
    consumer = _consumer(source, group)
    await consumer.start()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=200, max_records=50_000)
            rows = [orjson.loads(m.value) for messages in batches.values() for m in messages]
            if rows:
                columns = [[row.get(name) for row in rows] for name in _FLOOR_COLUMNS]
                await ch.insert(_FLOOR_TABLE, columns, _FLOOR_COLUMNS)
                await consumer.commit()
    finally:
        await consumer.stop()
