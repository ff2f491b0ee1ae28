"""Where benchmarks run: the services named by ``WELLSTREAM_*`` variables, or a Kafka
broker, a Redis and an embedded ClickHouse of their own in a temporary directory."""

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from aiokafka import AIOKafkaProducer

from runtime import kafka
from runtime.settings import Settings
from wellstream import infra


@contextlib.contextmanager
def environment() -> Iterator[None]:
    """The variables it sets are taken back on exit: the next benchmark must not be
    pointed at a broker that stopped with this one."""
    saved = dict(os.environ)
    try:
        with _services():
            yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _services() -> Iterator[None]:
    with (
        tempfile.TemporaryDirectory(prefix="wellstream-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        work = Path(tmp)
        if "WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS" not in os.environ:
            os.environ["WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS"] = stack.enter_context(
                infra.kafka(work / "kafka")
            )
        if "WELLSTREAM_REDIS_URL" not in os.environ:
            os.environ["WELLSTREAM_REDIS_URL"] = stack.enter_context(infra.redis(work / "redis"))
        os.environ.setdefault("WELLSTREAM_CLICKHOUSE_URL", f"chdb://{work / 'clickhouse'}")
        os.environ.setdefault("WELLSTREAM_LOG_LEVEL", "WARNING")
        yield


def fresh_topics() -> dict[str, str]:
    """Topic and group names of one run's own, set in the environment for the services."""
    token = uuid.uuid4().hex[:8]
    names = {
        "WELLSTREAM_TOPIC_RAW": f"bench.{token}.raw",
        "WELLSTREAM_TOPIC_NORMALIZED": f"bench.{token}.normalized",
        "WELLSTREAM_TOPIC_DLQ": f"bench.{token}.dlq",
        "WELLSTREAM_CONSUMER_GROUP_PREFIX": f"bench.{token}",
    }
    os.environ.update(names)
    return names


def producer() -> AIOKafkaProducer:
    """A producer configured as the services' own (idempotent, acks=all, zstd), but with
    aiokafka's default request timeout."""
    config = kafka.producer_config(Settings()) | {"request_timeout_ms": 40_000}
    return AIOKafkaProducer(**config)


async def preload(topic: str, payloads: list[bytes], keys: list[bytes]) -> None:
    """Publish the run's input before the clock starts."""
    sender = producer()
    await sender.start()
    try:
        pending = [
            await sender.send(topic, value, key=key)
            for value, key in zip(payloads, keys, strict=True)
        ]
        for future in pending:
            await future
    finally:
        await sender.stop()
