"""Kafka only matters to replay: the gateway keeps trying to reach it in the
background, and replay answers 503 until it comes."""

import asyncio
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError

from gateway import app
from gateway.config import GatewaySettings
from gateway.deps import Clients
from runtime import kafka
from runtime.errors import ApiError


class Broker:
    attempts = 0

    def __init__(self, *_: Any, **__: Any) -> None:
        self.stopped = False

    async def start(self) -> None:
        Broker.attempts += 1
        if Broker.attempts < 3:
            raise KafkaConnectionError("Unable to bootstrap from 127.0.0.1:1")

    async def stop(self) -> None:
        self.stopped = True


async def test_the_replay_producer_connects_when_kafka_comes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(kafka, "make_broker", Broker)
    clients = Clients(cache_ttl=0)
    with pytest.raises(ApiError) as away:
        clients.publisher()
    assert away.value.status == 503
    assert away.value.headers == {"Retry-After": "5"}
    settings = GatewaySettings(kafka_retry_seconds=0.01)
    await asyncio.wait_for(app.connect_kafka(settings, clients), 2)
    assert Broker.attempts == 3
    broker = clients.publisher()
    await app.stop_kafka(asyncio.create_task(asyncio.sleep(0)), clients)
    assert clients.broker is None
    assert broker.stopped  # type: ignore[attr-defined]
