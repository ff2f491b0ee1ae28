"""The validator on the real broker: a mixed batch split between normalized and DLQ; no
record stops its partition."""

import asyncio
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from contracts import DeadLetter, ErrorCode
from contracts.records import decode_canonical
from contracts.topics import HEADER_ACCEPTED_AT, HEADER_CORRELATION_ID
from runtime.kafka import ensure_topics
from tests.integration.kafka_support import consume
from validator.app import create_app
from validator.config import ValidatorSettings

pytestmark = pytest.mark.integration

#: Well codes of letters only, so they are already canonical (no zero-padded digit runs).
LETTERS = str.maketrans("0123456789", "GHIJKLMNOP")


def raw(well: str, **changes: Any) -> bytes:
    body = {
        "well_code": well,
        "production_period": "2024-01",
        "field_code": "77",
        "days_on_production": 31,
        "oil_production_kbd": "1.5",
        "gas_production_mmcfd": 2.0,
        "water_production_kbd": "",
    }
    return orjson.dumps(body | changes)


Headers = list[tuple[str, bytes | None]]


async def send_raw(
    settings: ValidatorSettings, key: str, messages: list[tuple[bytes, Headers]]
) -> None:
    """Publish (value, headers) pairs to the raw topic under one key: one partition,
    offsets 0, 1, ... in the order given."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for value, headers in messages:
            await producer.send(settings.topic_raw, value, key=key.encode(), headers=headers)
        await producer.flush()
    finally:
        await producer.stop()


async def test_a_mixed_batch_is_split_between_normalized_and_dlq(
    settings_env: dict[str, str], unique: str
) -> None:
    settings = ValidatorSettings(reference_enabled=False, batch_timeout_ms=50)
    await ensure_topics(settings)
    well = "W" + unique.upper().translate(LETTERS)
    good = [raw(f"{well}-{i}") for i in range(20)]
    odd = [raw(f"{well}-NEG", oil_production_kbd=-0.2), raw(f" {well}-pad ")]
    broken = [b"{not json", b"[1]", raw(f"{well}-M13", production_period="2024-13")]
    await send_raw(
        settings,
        unique,
        [
            (
                value,
                [(HEADER_CORRELATION_ID, f"c{i}".encode()), (HEADER_ACCEPTED_AT, b"1700000000000")],
            )
            for i, value in enumerate(good + odd + broken)
        ],
    )

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        servers = settings.kafka_bootstrap_servers
        normalized = await consume(servers, settings.topic_normalized, 22, within=30, settle=0.5)
        dead = await consume(servers, settings.topic_dlq, 3, within=30, settle=0.5)

    records = [decode_canonical(m.value) for m in normalized]
    letters = [DeadLetter.model_validate_json(m.value) for m in dead]
    assert len(records) == len(good + odd)
    assert len(letters) == len(broken)
    offsets = sorted(
        [r.source_offset for r in records] + [d.source.offset for d in letters if d.source]
    )
    assert offsets == list(range(25)), "every raw message is accounted for exactly once"
    flagged = {r.well_code: r.flags for r in records if r.flags}
    assert flagged == {
        f"{well}-NEG": ["negative_volume"],
        f"{well}-PAD": ["identifier_normalized"],
    }
    codes = sorted(e.code for d in letters for e in d.errors)
    assert codes == sorted(
        [ErrorCode.UNPARSEABLE_JSON, ErrorCode.NOT_AN_OBJECT, ErrorCode.INVALID_PERIOD]
    )
    assert {m.key for m in normalized} == {r.well_code.encode() for r in records}
    assert all(dict(m.headers).get(HEADER_CORRELATION_ID) for m in normalized + dead)
    assert {r.version for r in records} == {1_700_000_000_000}


async def test_headers_that_are_not_text_lose_nothing(
    settings_env: dict[str, str], unique: str
) -> None:
    """Upstream systems set binary headers (trace ids, schema fingerprints) and null
    ones: the batch around them is validated like any other, and committed only then."""
    settings = ValidatorSettings(reference_enabled=False, batch_timeout_ms=50)
    await ensure_topics(settings)
    well = "W" + unique.upper().translate(LETTERS)
    odd_headers: list[Headers] = [
        [("trace", b"\xff\xfe\x00binary")],
        [("empty", None)],
        [(HEADER_CORRELATION_ID, b"\xc3\x28")],
    ]
    await send_raw(
        settings,
        unique,
        [(raw(f"{well}-{i}"), odd_headers[i % 4] if i % 4 < 3 else []) for i in range(12)],
    )

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        servers = settings.kafka_bootstrap_servers
        normalized = await consume(servers, settings.topic_normalized, 12, within=30, settle=0.5)

    records = [decode_canonical(m.value) for m in normalized]
    assert sorted(r.source_offset for r in records) == list(range(12))


async def committed(settings: ValidatorSettings) -> dict[int, int]:
    """The validator group's committed offset of each raw partition that has one."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=f"{settings.consumer_group_prefix}.validator",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        found = {}
        for partition in range(settings.topic_partitions):
            offset = await consumer.committed(TopicPartition(settings.topic_raw, partition))
            if offset is not None:
                found[partition] = offset
        return found
    finally:
        await consumer.stop()


async def test_no_record_stops_its_partition(settings_env: dict[str, str], unique: str) -> None:
    """A 900 KB record that is a rejection (its dead letter would be as big) and one that
    is valid but whose normalized record is over the producer's request size sit among
    good records of their partition and of other keys: the good ones are normalized,
    the two are bounded dead letters, the offsets are committed, and later records go
    through."""
    settings = ValidatorSettings(
        reference_enabled=False, batch_timeout_ms=50, producer_max_request_bytes=256 * 1024
    )
    await ensure_topics(settings)
    well = "W" + unique.upper().translate(LETTERS)
    at: list[tuple[str, bytes | None]] = [(HEADER_ACCEPTED_AT, b"1700000000000")]
    pad = "x" * 900_000
    same = [raw(f"{well}-{i}") for i in range(10)]
    same[3] = raw(f"{well}-BIG", note=pad)  # valid; its record is over 256 KiB
    same[7] = orjson.dumps({"well_code": f"{well}-NOPERIOD", "note": pad})  # rejected
    await send_raw(settings, unique, [(value, at) for value in same])
    for key in ("a", "b", "c"):
        await send_raw(
            settings, f"{unique}-{key}", [(raw(f"{well}-{key.upper()}{i}"), at) for i in range(3)]
        )

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        servers = settings.kafka_bootstrap_servers
        normalized = await consume(servers, settings.topic_normalized, 17, within=60)
        await send_raw(settings, unique, [(raw(f"{well}-LATER"), at)])
        normalized = await consume(servers, settings.topic_normalized, 18, within=60, settle=0.5)
        dead = await consume(servers, settings.topic_dlq, 2, within=30, settle=0.5)
        await asyncio.sleep(1)  # the last batch's commit
        offsets = await committed(settings)

    records = [decode_canonical(m.value) for m in normalized]
    letters = [DeadLetter.model_validate_json(m.value) for m in dead]
    assert len(records) == 18, "each good record once, the later one too"
    assert {r.well_code for r in records} >= {f"{well}-LATER", f"{well}-C2"}
    assert len(letters) == 2
    assert sorted(d.source.offset for d in letters if d.source) == [3, 7]
    codes = sorted(e.code for d in letters for e in d.errors)
    assert codes == sorted([ErrorCode.MESSAGE_TOO_LARGE, ErrorCode.MISSING_FIELD])
    assert all(d.payload_truncated for d in letters)
    assert all(d.payload_bytes and d.payload_bytes > 900_000 for d in letters)
    assert all(len(m.value) < 20_000 for m in dead)
    assert all(d.accepted_at_ms == 1_700_000_000_000 for d in letters)
    assert sum(offsets.values()) == len(same) + 1 + 9, "every raw message committed"
