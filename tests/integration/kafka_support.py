"""Reading back what a test published to the real broker."""

import asyncio

from aiokafka import AIOKafkaConsumer, ConsumerRecord


async def consume(
    servers: str,
    topic: str,
    count: int,
    within: float = 20.0,
    settle: float = 0.0,
    isolation_level: str = "read_uncommitted",
) -> list[ConsumerRecord]:
    """At least ``count`` records of ``topic`` from the beginning; with ``settle``, keep
    reading that long afterwards, so a test can see that nothing more arrives."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level=isolation_level,
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        async with asyncio.timeout(within):
            while len(records) < count:
                batch = await consumer.getmany(timeout_ms=500)
                records += [r for rs in batch.values() for r in rs]
        if settle:
            batch = await consumer.getmany(timeout_ms=int(settle * 1000))
            records += [r for rs in batch.values() for r in rs]
    finally:
        await consumer.stop()
    return records
