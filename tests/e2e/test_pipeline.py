"""The whole pipeline on the real stack: ingestor → Kafka → validator → Kafka → writer →
ClickHouse → gateway, all four apps in this process as local mode runs them."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI

from gateway.app import create_app as gateway_app
from gateway.config import GatewaySettings
from ingestor.app import create_app as ingestor_app
from ingestor.config import IngestorSettings
from runtime.clickhouse import ClickHouse
from validator.app import create_app as validator_app
from validator.config import ValidatorSettings
from writer.app import create_app as writer_app
from writer.config import WriterSettings

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

KEY = "e2e-test-key-0123456789"


@contextlib.asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@contextlib.asynccontextmanager
async def pipeline(
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    monkeypatch.setenv(
        "WELLSTREAM_API_KEYS",
        json.dumps([{"name": "e2e", "key": KEY, "scopes": ["read", "ingest", "admin"]}]),
    )
    async with (
        running(writer_app(WriterSettings())),
        running(validator_app(ValidatorSettings())),
        running(ingestor_app(IngestorSettings())) as ingestor,
        running(gateway_app(GatewaySettings())) as gateway,
    ):
        yield ingestor, gateway


async def monthly(gateway: httpx.AsyncClient, well: str, expected: int) -> list[dict[str, object]]:
    """The well's monthly series once ``expected`` months are there (or what is there
    after the deadline)."""
    items: list[dict[str, object]] = []
    for _ in range(150):
        response = await gateway.get(
            f"/api/v1/wells/{well}/production",
            params={"granularity": "month"},
            headers={"X-API-Key": KEY},
        )
        if response.status_code == 200:
            items = response.json()["items"]
            if len(items) >= expected and all(i["oil_bbl"] is not None for i in items):
                return items
        await asyncio.sleep(0.2)
    return items


async def test_records_from_http_and_kafka_come_back_with_exact_sums(
    settings_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, unique: str
) -> None:
    http_well, kafka_well = f"E2E-H-{unique}", f"E2E-K-{unique}"
    # Daily records over two months: the monthly sums are exact sums of the days.
    http_records = [
        {
            "well_code": http_well,
            "production_period": f"2024-01-{d:02d}",
            "data_source": "e2e",
            "oil_production_kbd": 0.001 * d,
            "water_production_kbd": "0.002",
            "days_on_production": 1,
        }
        for d in range(1, 32)
    ] + [
        {
            "well_code": http_well,
            "production_period": f"2024-02-{d:02d}",
            "data_source": "e2e",
            "oil_production_kbd": 0.01,
            "days_on_production": 1,
        }
        for d in range(1, 30)
    ]
    kafka_records = [
        {
            "well_code": kafka_well,
            "production_period": "2023-12",
            "data_source": "e2e",
            "volumes": {
                "oil": {"value": 100.0, "unit": "Sm3"},
                "gas": {"value": 2000, "unit": "Mcf"},
            },
        },
    ]
    async with pipeline(monkeypatch) as (ingestor, gateway):
        body = "\n".join(json.dumps(r) for r in http_records)
        response = await ingestor.post(
            "/api/v1/records",
            content=body,
            headers={"X-API-Key": KEY, "Content-Type": "application/x-ndjson"},
        )
        assert response.status_code == 202, response.text
        assert response.json()["accepted"] == len(http_records)

        producer = AIOKafkaProducer(
            bootstrap_servers=settings_env["WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS"]
        )
        await producer.start()
        try:
            for record in kafka_records:
                await producer.send_and_wait(
                    settings_env["WELLSTREAM_TOPIC_RAW"],
                    json.dumps(record).encode(),
                    key=kafka_well.encode(),
                )
            await producer.send_and_wait(
                settings_env["WELLSTREAM_TOPIC_RAW"], b"{not json", key=b"x"
            )
        finally:
            await producer.stop()

        http_series = await monthly(gateway, http_well, expected=2)
        kafka_series = await monthly(gateway, kafka_well, expected=1)

    assert [i["period"] for i in http_series] == ["2024-01", "2024-02"]
    jan, feb = http_series
    # A daily rate in kbd times one calendar day is a total in thousand barrels.
    assert jan["oil_bbl"] == pytest.approx(sum(1000 * 0.001 * d for d in range(1, 32)))
    assert jan["water_bbl"] == pytest.approx(31 * 2.0)
    assert feb["oil_bbl"] == pytest.approx(29 * 10.0)
    assert feb["water_bbl"] is None  # not measured stays null, never 0
    assert jan["days_on_production"] == pytest.approx(31)

    assert len(kafka_series) == 1
    (dec,) = kafka_series
    assert dec["period"] == "2023-12"
    assert dec["oil_bbl"] == pytest.approx(100.0 * 6.289811)
    assert dec["gas_mcf"] == pytest.approx(2000.0)
    assert dec["boe"] == pytest.approx(100.0 * 6.289811 + 2000.0 / 6)


async def test_unparseable_message_lands_in_the_dead_letter_topic_with_its_reason(
    settings_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, clickhouse: ClickHouse
) -> None:
    bootstrap = settings_env["WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS"]
    async with pipeline(monkeypatch):
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(
                settings_env["WELLSTREAM_TOPIC_RAW"], b"{not json", key=b"w"
            )
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            settings_env["WELLSTREAM_TOPIC_DLQ"],
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            message = await asyncio.wait_for(consumer.getone(), timeout=30)
        finally:
            await consumer.stop()
    letter = json.loads(message.value)
    assert letter["stage"] == "validator"
    assert letter["payload"] == "{not json"
    assert [e["code"] for e in letter["errors"]] == ["unparseable_json"]
    assert letter["source"]["topic"] == settings_env["WELLSTREAM_TOPIC_RAW"]
