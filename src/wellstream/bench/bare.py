"""The pipeline benchmark's floor, a stage a process: ``python -m wellstream.bench.bare
validate`` consumes raw records, validates each with pydantic (``RawRecord``), builds a
``CanonicalRecord`` from it with nothing but copies and a little arithmetic, encodes it
(msgspec) and produces it; ``... insert`` consumes them and inserts each partition's
batch into ``production_history`` as the writer does (the message bytes as
``JSONEachRow`` with the Kafka lineage appended, the writer's input settings), then
commits. No rules, no reference data, no deduplication token, no metrics, no framework.

They read the services' ``WELLSTREAM_*`` settings and use the services' consumer groups
(``<prefix>.validator``, ``<prefix>.writer``), so the benchmark watches both pipelines'
commits the same way. Each prints ``ready`` once its clients started.

``... query SOURCE`` (run once the inserting process stopped: the embedded engine takes
one process per data directory) prints, as JSON, the rows of ``SOURCE`` in
``production_history`` and the p50 and p99 of ``inserted_at - ingested_at`` in ms.
"""

import asyncio
import sys
from datetime import UTC, date, datetime
from typing import Final

import msgspec
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from contracts import CanonicalRecord, RawRecord
from contracts.records import canonical_record
from runtime import kafka
from runtime.clickhouse import ClickHouse, connect
from runtime.settings import Settings, load

_encode: Final = msgspec.json.Encoder().encode
_TABLE: Final = "production_history"


def _consumer(settings: Settings, topic: str, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topic,
        **kafka.connection(settings),
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )


def _barrels(rate: float | None, days: float) -> float | None:
    return None if rate is None else rate * 1000 * days


def canonical(raw: RawRecord, message: ConsumerRecord, now: datetime) -> CanonicalRecord:
    """The record at the width of the validator's: every field, rates and volumes filled
    from the raw record's rates (no units, no rules, no reference data)."""
    period = raw.production_period
    days = float(raw.days_on_production or 0)
    oil, gas, water = raw.oil_production_kbd, raw.gas_production_mmcfd, raw.water_production_kbd
    return canonical_record(
        record_id=f"{raw.well_code}|{raw.field_code}|{period}|month|{raw.data_source}",
        version=(raw.revision << 44) | message.timestamp,
        well_code=raw.well_code.upper(),
        well_code_raw=raw.well_code,
        field_code=raw.field_code or "",
        field_name=raw.field_name,
        well_reference=raw.well_reference,
        well_name=raw.well_name,
        period=period,
        period_start=date(int(period[:4]), int(period[5:7]), 1),
        period_type="month",
        days_in_period=30,
        days_on_production=raw.days_on_production,
        oil_bbl=_barrels(oil, days),
        gas_mcf=_barrels(gas, days),
        water_bbl=_barrels(water, days),
        oil_production_kbd=oil,
        gas_production_mmcfd=gas,
        water_production_kbd=water,
        liquids_production_kbd=raw.liquids_production_kbd,
        data_source=raw.data_source,
        revision=raw.revision,
        extra=raw.model_extra or {},
        source_topic=message.topic,
        source_partition=message.partition,
        source_offset=message.offset,
        ingested_at=datetime.fromtimestamp(message.timestamp / 1000, UTC),
        normalized_at=now,
    )


async def validate(settings: Settings) -> None:
    group = f"{settings.consumer_group_prefix}.validator"
    consumer = _consumer(settings, settings.topic_raw, group)
    sender = AIOKafkaProducer(**kafka.producer_config(settings))
    await consumer.start()
    await sender.start()
    print("ready", flush=True)
    while True:
        batches = await consumer.getmany(timeout_ms=200, max_records=2_000)
        now, pending = datetime.now(UTC), []
        for messages in batches.values():
            for message in messages:
                raw = RawRecord.model_validate_json(message.value or b"")
                body = _encode(canonical(raw, message, now))
                pending.append(await sender.send(settings.topic_normalized, body, key=message.key))
        if pending:
            await asyncio.gather(*pending)
            await consumer.commit()


def _rows(messages: list[ConsumerRecord]) -> bytes:
    """One partition's messages as ``JSONEachRow``, each with its Kafka lineage."""
    topic = orjson.dumps(messages[0].topic)
    return b"".join(
        b'%b,"kafka_topic":%b,"kafka_partition":%d,"kafka_offset":%d}\n'
        % ((m.value or b"").rstrip()[:-1], topic, m.partition, m.offset)
        for m in messages
    )


async def insert(settings: Settings) -> None:
    from writer.rows import JSON_INPUT
    from writer.schema import migrate

    ch = ClickHouse(connect(settings.clickhouse_url))
    await migrate(ch)
    group = f"{settings.consumer_group_prefix}.writer"
    consumer = _consumer(settings, settings.topic_normalized, group)
    await consumer.start()
    print("ready", flush=True)
    while True:
        batches = await consumer.getmany(timeout_ms=500, max_records=20_000)
        for messages in batches.values():
            await ch.insert_raw(_TABLE, _rows(messages), "JSONEachRow", settings=JSON_INPUT)
        if batches:
            await consumer.commit()


async def query(settings: Settings, source: str) -> dict[str, float]:
    ch = ClickHouse(connect(settings.clickhouse_url))
    lag = "toFloat64(dateDiff('millisecond', ingested_at, inserted_at))"
    rows = await ch.rows(
        f"SELECT count(), quantileExact(0.5)({lag}), quantileExact(0.99)({lag})"
        f" FROM {_TABLE} WHERE data_source = {{source:String}}",
        parameters={"source": source},
    )
    ch.close()
    count, p50, p99 = rows[0]
    return {"rows": int(count), "p50_ms": float(p50), "p99_ms": float(p99)}


def main(argv: list[str]) -> None:
    settings = load(Settings)
    match argv:
        case ["validate"]:
            asyncio.run(validate(settings))
        case ["insert"]:
            asyncio.run(insert(settings))
        case ["query", source]:
            print(orjson.dumps(asyncio.run(query(settings, source))).decode())
        case _:
            sys.exit("usage: python -m wellstream.bench.bare validate | insert | query SOURCE")


if __name__ == "__main__":
    main(sys.argv[1:])
