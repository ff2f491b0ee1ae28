"""Transports as managed services offer them.

Kafka over SASL_SSL: every client the project builds (``runtime.kafka``'s producer,
aiokafka clients from ``connection``, FastStream's broker, the admin client of
``ensure_topics``) authenticates with PLAIN or SCRAM-SHA-512 over TLS verified against a
CA file; a wrong password or an untrusted certificate fails at start, within seconds.

Redis over TLS (``rediss://``) as an ACL user, verified against a CA file."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaConnectionError
from redis.exceptions import AuthenticationError
from redis.exceptions import ConnectionError as RedisConnectionError

from runtime import kafka, redis
from runtime.settings import SaslMechanism, Settings
from tests import infra

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[infra.SecureKafka]:
    """A broker of this module's own: the others need no TLS, and start faster without."""
    if shutil.which("java") is None:
        pytest.skip("the SASL_SSL broker runs on Java")
    with infra.secure_kafka(tmp_path_factory.mktemp("secure-kafka")) as broker:
        yield broker


def _settings(
    broker: infra.SecureKafka, unique: str, mechanism: SaslMechanism, **overrides: object
) -> Settings:
    values: dict[str, object] = {
        "kafka_bootstrap_servers": broker.bootstrap,
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": mechanism,
        "kafka_sasl_username": "alice",
        "kafka_sasl_password": broker.users["alice"],
        "kafka_ssl_cafile": broker.cafile,
        "topic_raw": f"test.{unique}.raw",
        "topic_normalized": f"test.{unique}.normalized",
        "topic_dlq": f"test.{unique}.dlq",
    }
    return Settings.model_validate(values | overrides)


async def _read(settings: Settings, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        settings.topic_raw, **kafka.connection(settings), auto_offset_reset="earliest"
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        async with asyncio.timeout(20):
            while len(values) < count:
                batch = await consumer.getmany(timeout_ms=500)
                values += [r.value for rs in batch.values() for r in rs if r.value is not None]
    finally:
        await consumer.stop()
    return values


async def _topic_limit(settings: Settings) -> str:
    admin = AIOKafkaAdminClient(**kafka.connection(settings))
    await admin.start()
    try:
        resource = ConfigResource(ConfigResourceType.TOPIC, settings.topic_raw)
        (response,) = await admin.describe_configs([resource])
    finally:
        await admin.close()
    configs = response.to_object()["resources"][0]["config_entries"]
    value = next(c["config_value"] for c in configs if c["config_names"] == "max.message.bytes")
    return str(value)


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-512"])
async def test_every_client_produces_and_consumes_over_sasl_ssl(
    secure: infra.SecureKafka, unique: str, mechanism: SaslMechanism
) -> None:
    settings = _settings(secure, f"{unique}.{mechanism.lower()}", mechanism)
    await kafka.ensure_topics(settings)
    assert await _topic_limit(settings) == str(settings.topic_max_message_bytes)

    producer = kafka.Producer(settings, client_id="test")
    await producer.start()
    try:
        sent: list[kafka.Outgoing] = [
            (settings.topic_raw, f"r{i}".encode(), b"w", []) for i in range(3)
        ]
        assert await producer.send_all(sent) == 3
    finally:
        await producer.stop()
    broker = kafka.make_broker(settings, client_id="test")
    await broker.start()
    try:
        await kafka.ping(broker)
        await broker.publish(b"from-faststream", settings.topic_raw, key=b"w")
    finally:
        await broker.stop()

    assert await _read(settings, 4) == [b"r0", b"r1", b"r2", b"from-faststream"]


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-512"])
async def test_a_wrong_password_fails_at_start(
    secure: infra.SecureKafka,
    unique: str,
    mechanism: SaslMechanism,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = _settings(secure, unique, mechanism, kafka_sasl_password="not-the-password")
    producer = kafka.Producer(settings, client_id="test")
    with pytest.raises(KafkaConnectionError, match="Unable to bootstrap"):
        async with asyncio.timeout(20):
            await producer.start()
    await producer.stop()
    assert "Authentication failed" in caplog.text  # aiokafka logs the broker's reason


async def test_a_broker_certificate_not_signed_by_the_ca_file_is_refused(
    secure: infra.SecureKafka, unique: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from tests import tls

    other_ca, *_ = tls.server(tmp_path)
    settings = _settings(secure, unique, "SCRAM-SHA-512", kafka_ssl_cafile=other_ca)
    producer = kafka.Producer(settings, client_id="test")
    with pytest.raises(KafkaConnectionError, match="Unable to bootstrap"):
        async with asyncio.timeout(20):
            await producer.start()
    await producer.stop()
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text


@pytest.fixture(scope="module")
def secure_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[infra.SecureRedis]:
    with infra.secure_redis(tmp_path_factory.mktemp("secure-redis")) as server:
        yield server


async def test_redis_over_tls_as_an_acl_user(secure_redis: infra.SecureRedis) -> None:
    server = secure_redis
    url = f"rediss://{server.user}:{server.password}@{server.host}:{server.port}/0"
    client = redis.connect(url, ca_file=server.cafile)
    try:
        await redis.ping(client)
        await client.set("transport", "tls")
        assert await client.get("transport") == b"tls"
    finally:
        await client.aclose()


@pytest.mark.parametrize("credentials", ["app:not-the-password@", ""])
async def test_redis_refuses_a_wrong_password_and_no_user(
    secure_redis: infra.SecureRedis, credentials: str
) -> None:
    server = secure_redis
    url = f"rediss://{credentials}{server.host}:{server.port}/0"
    client = redis.connect(url, ca_file=server.cafile)
    try:
        with pytest.raises(AuthenticationError):
            await client.ping()
    finally:
        await client.aclose()


async def test_redis_refuses_a_certificate_not_signed_by_the_ca_file(
    secure_redis: infra.SecureRedis, tmp_path: Path
) -> None:
    from tests import tls

    server, (other_ca, *_) = secure_redis, tls.server(tmp_path)
    url = f"rediss://{server.user}:{server.password}@{server.host}:{server.port}/0"
    client = redis.connect(url, ca_file=other_ca)
    try:
        with pytest.raises(RedisConnectionError, match="certificate verify failed"):
            await client.ping()
    finally:
        await client.aclose()
