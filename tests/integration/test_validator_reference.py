"""The validator with reference data in a real Redis: enrichment, unknown wells, outages."""

import asyncio
from pathlib import Path

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from contracts import CanonicalRecord
from contracts.records import decode_canonical
from runtime.kafka import ensure_topics
from validator.app import create_app, load_reference
from validator.config import ValidatorSettings
from wellstream.infra import free_port as closed_port  # nothing listens once it returns

pytestmark = pytest.mark.integration


def letters(unique: str) -> str:
    """A canonical well code of letters only (no zero-padded digit runs)."""
    return unique.upper().translate(str.maketrans("0123456789", "GHIJKLMNOP"))


def settings_for(unique: str, **overrides: object) -> ValidatorSettings:
    return ValidatorSettings(
        batch_timeout_ms=50,
        reference_key_prefix=f"test:{unique}:well:",
        **overrides,  # type: ignore[arg-type]
    )


async def produce(servers: str, topic: str, wells: list[str]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers)
    await producer.start()
    try:
        for well in wells:
            body = {"well_code": well, "production_period": "2024-01", "oil_production_kbd": 1}
            await producer.send(topic, orjson.dumps(body), key=well.encode())
        await producer.flush()
    finally:
        await producer.stop()


async def records_on(servers: str, topic: str, count: int, within: float) -> list[CanonicalRecord]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=servers, auto_offset_reset="earliest")
    await consumer.start()
    got: list[CanonicalRecord] = []
    try:
        async with asyncio.timeout(within):
            while len(got) < count:
                batches = await consumer.getmany(timeout_ms=300)
                got += [decode_canonical(m.value) for records in batches.values() for m in records]
    except TimeoutError:
        pass
    finally:
        await consumer.stop()
    return got


def reference_file(tmp_path: Path, well: str) -> Path:
    path = tmp_path / "wells.csv"
    path.write_text(
        f"well_code,well_name,field_code,field_name,operator,basin,country,status\n"
        f"{well},Known 1,77,Marlim,Petrobras,Campos,BR,producing\n",
        encoding="utf-8",
    )
    return path


async def test_reference_data_enriches_and_an_unknown_well_is_flagged(
    settings_env: dict[str, str], unique: str, tmp_path: Path
) -> None:
    settings = settings_for(unique)
    await ensure_topics(settings)
    known, unknown = "K" + letters(unique), "U" + letters(unique)
    assert await load_reference(settings, reference_file(tmp_path, known)) == 1
    await produce(settings.kafka_bootstrap_servers, settings.topic_raw, [known, unknown])

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        records = await records_on(
            settings.kafka_bootstrap_servers, settings.topic_normalized, 2, 30
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://validator") as client:
            ready = await client.get("/health/ready")
            metrics = await client.get("/metrics")

    by_well = {r.well_code: r for r in records}
    assert set(by_well) == {known, unknown}
    assert (by_well[known].operator, by_well[known].field_name) == ("Petrobras", "Marlim")
    assert by_well[known].flags == []
    assert by_well[unknown].flags == ["unknown_well"]
    assert by_well[unknown].operator is None
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"kafka": "ok", "redis": "ok"}
    assert 'wellstream_validator_flags_total{flag="unknown_well"}' in metrics.text


async def test_a_redis_outage_delays_records_and_loses_none(
    settings_env: dict[str, str], unique: str, tmp_path: Path
) -> None:
    settings = settings_for(unique)
    await ensure_topics(settings)
    wells = ["K" + letters(unique)] * 5
    await produce(settings.kafka_bootstrap_servers, settings.topic_raw, wells)

    down = settings_for(
        unique, redis_url=f"redis://127.0.0.1:{closed_port()}/0", reference_retry_for_seconds=0.3
    )
    app = create_app(down)
    async with app.router.lifespan_context(app):
        during = await records_on(settings.kafka_bootstrap_servers, settings.topic_normalized, 1, 4)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://validator") as client:
            ready = await client.get("/health/ready")
    assert during == [], "nothing goes on unenriched while Redis is down"
    assert ready.status_code == 503

    await load_reference(settings, reference_file(tmp_path, wells[0]))
    app = create_app(settings)  # Redis is back: the same consumer group resumes
    async with app.router.lifespan_context(app):
        after = await records_on(settings.kafka_bootstrap_servers, settings.topic_normalized, 5, 30)
    assert len(after) == 5
    assert {r.operator for r in after} == {"Petrobras"}
    assert sorted(r.source_offset for r in after) == [0, 1, 2, 3, 4]
