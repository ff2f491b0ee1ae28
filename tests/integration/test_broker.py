"""The broker the project starts is a real Kafka: idempotent producers and transactions
work on it, and a read_committed consumer never sees an aborted record. The largest
record a producer may send is one the topics accept."""

import asyncio
import os

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError

from runtime import kafka
from runtime.settings import Settings
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


async def test_the_largest_record_a_producer_sends_is_one_its_topic_accepts(
    base_settings: Settings,
) -> None:
    settings, topic = base_settings, base_settings.topic_raw
    await kafka.ensure_topics(settings)
    producer = kafka.Producer(settings, client_id="test")
    await producer.start()
    try:
        # random bytes do not compress: the batch the broker checks is as large as the record
        largest = os.urandom(settings.producer_max_request_bytes - 100)
        assert await producer.send_all([(topic, largest, b"w", [])]) == 1
        too_large = os.urandom(settings.producer_max_request_bytes + 1)
        with pytest.raises(MessageSizeTooLargeError):  # refused before it leaves
            await producer.send_all([(topic, too_large, b"w", [])])
    finally:
        await producer.stop()
    (record,) = await consume(settings.kafka_bootstrap_servers, topic, 1, settle=0.5)
    assert record.value == largest
