"""The writer on the real broker and ClickHouse: consume, insert, commit, replay."""

import asyncio
from datetime import UTC, date, datetime

import httpx
import msgspec
import orjson
import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord

from contracts import CanonicalRecord, OriginalValue
from contracts.records import encode
from runtime import generations
from runtime import redis as redis_client
from runtime.clickhouse import ClickHouse
from runtime.kafka import ensure_topics
from wellstream.chaos import data as chaos
from writer import rows
from writer.app import create_app
from writer.config import WriterSettings
from writer.handlers import consumer_group
from writer.inserts import Inserts

pytestmark = pytest.mark.integration

N = 3_000


def writer_settings(**overrides: object) -> WriterSettings:
    return WriterSettings(batch_max_wait_ms=100, migrate_on_start=True, **overrides)  # type: ignore[arg-type]


async def run_until_committed(settings: WriterSettings, target: int) -> int:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        return await chaos.wait_committed(
            settings.kafka_bootstrap_servers, consumer_group(settings), target, 60
        )


async def test_records_land_once_and_a_replay_changes_nothing(
    clickhouse: ClickHouse, unique: str, settings_env: dict[str, str]
) -> None:
    settings = writer_settings()
    await ensure_topics(settings)
    await chaos.publish(settings.kafka_bootstrap_servers, settings.topic_normalized, N, unique)

    assert await run_until_committed(settings, N) == N
    first = await chaos.counts(clickhouse, unique)

    replay = writer_settings(consumer_group_prefix=f"{settings.consumer_group_prefix}.replay")
    assert await run_until_committed(replay, N) == N
    second = await chaos.counts(clickhouse, unique)

    assert (first.current, first.versions) == (N, N)
    assert first.history_rows == N, "one run inserts each row once"
    assert (second.current, second.versions) == (N, N), "a replay is invisible to reads"
    assert second.per_well == chaos.expected_per_well(N, unique)
    assert second.oil_total == pytest.approx(chaos.expected_oil(N))


async def test_a_newer_version_replaces_the_current_row_and_history_keeps_both(
    clickhouse: ClickHouse, unique: str, settings_env: dict[str, str]
) -> None:
    settings = writer_settings()
    await ensure_topics(settings)
    bootstrap, topic = settings.kafka_bootstrap_servers, settings.topic_normalized
    await chaos.publish(bootstrap, topic, 100, unique, version=2)
    await chaos.publish(bootstrap, topic, 100, unique, version=1)  # a late, older copy

    assert await run_until_committed(settings, 200) == 200
    got = await chaos.counts(clickhouse, unique)
    rows = await clickhouse.rows(
        "SELECT DISTINCT argMax(version, version) FROM production"
        " WHERE startsWith(well_code, {p:String}) GROUP BY record_id",
        parameters={"p": f"{unique}-"},
    )

    assert (got.current, got.versions) == (100, 200)
    assert rows == [(2,)]


async def test_bad_messages_become_dead_letters_in_clickhouse(
    clickhouse: ClickHouse, unique: str, settings_env: dict[str, str]
) -> None:
    settings = writer_settings()
    await ensure_topics(settings)
    bad_version = orjson.loads(chaos.body(0, unique)) | {"version": -1}
    # Decodes (the last of two values wins), but ClickHouse refuses a field given twice.
    twice = chaos.body(1, unique)[:-1] + b',"well_code":"other"}'
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for body in (b"{not json", orjson.dumps(bad_version), twice):
            await producer.send_and_wait(settings.topic_normalized, body, partition=0)
    finally:
        await producer.stop()
    await chaos.publish(settings.kafka_bootstrap_servers, settings.topic_normalized, 10, unique)

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert (
            await chaos.wait_committed(
                settings.kafka_bootstrap_servers, consumer_group(settings), 13, 30
            )
            == 13
        )
        letters = await _wait_rows(
            clickhouse,
            "SELECT DISTINCT id, stage, error_codes FROM dead_letters"
            " WHERE source_topic = {t:String} ORDER BY source_offset",
            {"t": settings.topic_normalized},
            want=3,
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://writer") as http:
            ready = await http.get("/health/ready")
            exposed = (await http.get("/metrics")).text

    assert [(stage, codes) for _, stage, codes in letters] == [
        ("writer", ["unparseable_json"]),
        ("writer", ["invalid_value"]),
        ("writer", ["insert_rejected"]),
    ]
    assert (await chaos.counts(clickhouse, unique)).current == 10
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"kafka": "ok", "clickhouse": "ok"}
    assert "wellstream_writer_rows_inserted_total" in exposed


async def _wait_rows(
    ch: ClickHouse, sql: str, params: dict[str, str], want: int, within: float = 20
) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for _ in range(int(within / 0.25)):
        rows = await ch.rows(sql, parameters=params)
        if len(rows) >= want:
            break
        await asyncio.sleep(0.25)
    return rows


async def test_a_stored_row_reads_back_as_the_record_it_was(
    clickhouse: ClickHouse, unique: str
) -> None:
    record = msgspec.structs.replace(
        chaos.canonical(0, unique),
        original_values={"oil": OriginalValue(value=7791.68, unit="Sm3")},
        extra={"note": "é ✓", "n": 1},
        flags=["identifier_normalized"],
        oil_bbl=0.1 + 0.2,
        ingested_at=datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC),
    )
    message = ConsumerRecord(f"{unique}.t", 2, 5, 0, 0, None, encode(record), None, 0, 0, ())
    chunk = rows.prepare([message])
    assert chunk.rows is not None
    assert await Inserts(clickhouse).rows(chunk.rows) == []

    (row,) = await clickhouse.named_rows(
        "SELECT * EXCEPT (inserted_at) FROM production_history WHERE kafka_topic = {t:String}",
        parameters={"t": f"{unique}.t"},
    )

    expected = msgspec.to_builtins(record, builtin_types=(datetime, date))
    for name in ("ingested_at", "normalized_at"):  # the client reads UTC times as naive
        row[name] = row[name].replace(tzinfo=UTC)
    assert orjson.loads(row.pop("original_values")) == expected.pop("original_values")
    assert orjson.loads(row.pop("extra")) == expected.pop("extra")
    lineage = {"kafka_topic": f"{unique}.t", "kafka_partition": 2, "kafka_offset": 5}
    assert row == expected | lineage
    assert row["oil_bbl"] == 0.1 + 0.2, "the same double, to the last bit"


async def test_the_table_has_the_contract_fields_then_the_lineage(clickhouse: ClickHouse) -> None:
    columns = await clickhouse.rows(
        "SELECT name FROM system.columns WHERE database = currentDatabase()"
        " AND table = 'production_history' ORDER BY position"
    )

    assert tuple(name for (name,) in columns) == (
        *CanonicalRecord.__struct_fields__,
        "kafka_topic",
        "kafka_partition",
        "kafka_offset",
        "inserted_at",
    )
    assert tuple(name for (name,) in columns)[:-1] == rows.HISTORY_COLUMNS


async def test_an_insert_bumps_the_generations_of_its_wells_and_fields(
    clickhouse: ClickHouse, unique: str, settings_env: dict[str, str]
) -> None:
    settings = writer_settings()
    await ensure_topics(settings)
    redis = redis_client.connect(settings.redis_url)
    keys = (generations.key("well", f"{unique}-0"), generations.key("field", "F1"))
    try:
        before = await generations.current(redis, *keys)
        await chaos.publish(settings.kafka_bootstrap_servers, settings.topic_normalized, 10, unique)
        assert await run_until_committed(settings, 10) == 10
        after = await generations.current(redis, *keys)
    finally:
        await redis.aclose()

    assert before[0] == 0
    assert after[0] >= 1
    assert after[1] > before[1]


async def test_headers_that_are_not_text_lose_nothing(
    clickhouse: ClickHouse, unique: str, settings_env: dict[str, str]
) -> None:
    settings = writer_settings()
    await ensure_topics(settings)
    count = 300
    odd: list[list[tuple[str, bytes | None]]] = [[("trace", b"\xff\x00")], [("empty", None)], []]
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for i in range(count):
            record = chaos.canonical(i, unique)
            await producer.send(
                settings.topic_normalized,
                encode(record),
                key=record.well_code.encode(),
                headers=odd[i % 3],
            )
        await producer.flush()
    finally:
        await producer.stop()

    assert await run_until_committed(settings, count) == count
    counts = await chaos.counts(clickhouse, unique)
    assert (counts.current, counts.history_rows) == (count, count)


async def test_without_redis_the_writer_starts_ready_and_inserts(
    clickhouse: ClickHouse, unique: str, settings_env: dict[str, str]
) -> None:
    """Redis only receives the writer's cache bumps: with it away (a closed port) the
    writer starts, is ready and inserts; the bumps are skipped and counted."""
    settings = writer_settings(redis_url="redis://127.0.0.1:1/0")
    await ensure_topics(settings)
    await chaos.publish(settings.kafka_bootstrap_servers, settings.topic_normalized, 50, unique)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://writer") as http:
            ready = await http.get("/health/ready")
            committed = await chaos.wait_committed(
                settings.kafka_bootstrap_servers, consumer_group(settings), 50, 60
            )
            exposed = (await http.get("/metrics")).text
    assert (ready.status_code, ready.json()["checks"]) == (200, {"kafka": "ok", "clickhouse": "ok"})
    assert committed == 50
    assert (await chaos.counts(clickhouse, unique)).current == 50
    failures = [
        line
        for line in exposed.splitlines()
        if line.startswith("wellstream_writer_cache_bump_failures_total ")
    ]
    assert failures
    assert float(failures[0].split()[1]) >= 1
