"""Clients can be composed before an event loop runs (uvicorn starts it later); every
client takes its connection (TLS, SASL) and size limit from the settings."""

import ssl
from pathlib import Path

import pytest

from runtime import kafka
from runtime.kafka import Producer, make_broker
from runtime.settings import Settings


def test_producer_and_broker_are_built_outside_an_event_loop() -> None:
    settings = Settings(kafka_bootstrap_servers="127.0.0.1:1")
    producer = Producer(settings, client_id="test")
    broker = make_broker(settings, client_id="test")
    assert producer is not None
    assert broker is not None


def test_every_app_is_built_outside_an_event_loop() -> None:
    from gateway.app import create_app as gateway
    from gateway.config import GatewaySettings
    from ingestor.app import create_app as ingestor
    from ingestor.config import IngestorSettings
    from validator.app import create_app as validator
    from validator.config import ValidatorSettings
    from writer.app import create_app as writer
    from writer.config import WriterSettings

    apps = [
        gateway(GatewaySettings()),
        ingestor(IngestorSettings()),
        validator(ValidatorSettings()),
        writer(WriterSettings()),
    ]
    assert [app.title for app in apps] == [
        "wellstream gateway",
        "wellstream ingestor",
        "wellstream validator",
        "wellstream writer",
    ]


def test_plaintext_is_the_default_and_adds_nothing() -> None:
    settings = Settings(kafka_bootstrap_servers="k:9092")
    assert kafka.connection(settings) == {"bootstrap_servers": "k:9092"}
    assert kafka.security(settings) is None


@pytest.mark.parametrize(
    ("protocol", "mechanism", "tls"),
    [
        ("SASL_SSL", "PLAIN", True),
        ("SASL_SSL", "SCRAM-SHA-512", True),
        ("SASL_PLAINTEXT", "SCRAM-SHA-256", False),
    ],
)
def test_sasl_settings_become_aiokafka_and_faststream_arguments(
    protocol: str, mechanism: str, tls: bool
) -> None:
    settings = Settings.model_validate(
        {
            "kafka_bootstrap_servers": "k:9096",
            "kafka_security_protocol": protocol,
            "kafka_sasl_mechanism": mechanism,
            "kafka_sasl_username": "svc",
            "kafka_sasl_password": "pw",
        }
    )
    options = kafka.connection(settings)
    assert options["security_protocol"] == protocol
    assert options["sasl_mechanism"] == mechanism
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("svc", "pw")
    assert isinstance(options["ssl_context"], ssl.SSLContext) is tls
    broker = kafka.make_broker(settings, client_id="test")
    assert broker._connection_kwargs["security_protocol"] == protocol


def test_ssl_verifies_the_broker_against_the_ca_file(tmp_path: Path) -> None:
    from tests import tls

    cafile, certfile, keyfile = tls.write_pem(tmp_path)
    settings = Settings(
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=cafile,
        kafka_ssl_certfile=certfile,
        kafka_ssl_keyfile=keyfile,
    )
    context = kafka.connection(settings)["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert [ca["subject"] for ca in context.get_ca_certs()] == [
        ((("commonName", "wellstream test CA"),),)
    ]


def test_producers_send_at_most_what_topics_accept() -> None:
    settings = Settings(producer_max_request_bytes=500_000, topic_max_message_bytes=600_000)
    config = kafka.producer_config(settings)
    assert config["max_request_size"] == 500_000
    assert config["enable_idempotence"]
    assert config["acks"] == "all"
    broker = kafka.make_broker(settings, client_id="test")
    assert broker._connection_kwargs["max_request_size"] == 500_000


def test_remembered_partitions_are_the_default_partitioners() -> None:
    """A key goes where aiokafka's (and Java's) default partitioner sends it, also after
    the topic's partition count changed."""
    from aiokafka.partitioner import DefaultPartitioner

    from runtime.kafka import Partitions

    partitions = Partitions()
    keys = [f"W-{i}".encode() for i in range(500)]
    for count in (3, 3, 12):
        partitions.refresh("t", set(range(count)))
        expected = [DefaultPartitioner()(key, list(range(count)), []) for key in keys]
        assert [partitions.of("t", key) for key in keys] == expected
    assert len({partitions.of("t", key) for key in keys}) == 12
