"""Clients can be composed before an event loop runs (uvicorn starts it later)."""

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
