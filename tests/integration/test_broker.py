"""The broker the project starts is a real Kafka: idempotent producers and transactions
work on it, and a read_committed consumer never sees an aborted record."""

import asyncio

import pytest
from aiokafka import AIOKafkaProducer

from tests.conftest import Infra
from tests.integration.kafka_support import consume

pytestmark = pytest.mark.integration


async def _read_all(servers: str, topic: str, isolation: str, expected: int) -> list[bytes]:
    """Every value of ``topic``: the expected ones, and a second to show none follows."""
    records = await consume(
        servers, topic, expected, within=30, settle=1.0, isolation_level=isolation
    )
    return [r.value for r in records]


async def test_idempotent_producer_delivers_each_record_once(infra: Infra, unique: str) -> None:
    topic = f"test.{unique}.idempotent"
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        sent = [f"r{i}".encode() for i in range(200)]
        futures = [await producer.send(topic, value, key=b"w") for value in sent]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    assert await _read_all(infra.kafka, topic, "read_uncommitted", len(sent)) == sent


async def test_transactions_commit_and_abort(infra: Infra, unique: str) -> None:
    topic = f"test.{unique}.txn"
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka, transactional_id=f"tx-{unique}")
    await producer.start()
    try:
        async with producer.transaction():
            await producer.send_and_wait(topic, b"committed-1", key=b"w")
            await producer.send_and_wait(topic, b"committed-2", key=b"w")
        await producer.begin_transaction()
        await producer.send_and_wait(topic, b"aborted", key=b"w")
        await producer.abort_transaction()
        async with producer.transaction():
            await producer.send_and_wait(topic, b"committed-3", key=b"w")
    finally:
        await producer.stop()
    committed = await _read_all(infra.kafka, topic, "read_committed", 3)
    assert committed == [b"committed-1", b"committed-2", b"committed-3"]
    everything = await _read_all(infra.kafka, topic, "read_uncommitted", 4)
    assert b"aborted" in everything
