"""Session fixtures: real Kafka, Redis and ClickHouse, started once and shared.

Unit tests never touch them; a test that asks for ``infra`` (or a fixture built on it)
starts them on first use. Each test gets topics and a consumer group of its own, so
tests do not see each other's messages; ClickHouse tables are shared, so tests use
well codes of their own (``unique``).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from runtime import tracing
from runtime.clickhouse import ClickHouse, connect
from runtime.settings import Settings
from tests import infra as _infra


@dataclass(frozen=True)
class Infra:
    kafka: str
    redis: str
    clickhouse: str


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    workdir = tmp_path_factory.mktemp("infra")
    with contextlib.ExitStack() as stack:
        yield Infra(
            kafka=stack.enter_context(_infra.kafka(workdir)),
            redis=stack.enter_context(_infra.redis(workdir)),
            clickhouse=stack.enter_context(_infra.clickhouse(workdir)),
        )


@pytest.fixture(scope="session")
async def clickhouse(infra: Infra) -> AsyncIterator[ClickHouse]:
    """The shared ClickHouse, migrated."""
    from writer.schema import migrate

    ch = ClickHouse(connect(infra.clickhouse))
    await migrate(ch)
    yield ch
    ch.close()


@pytest.fixture
def unique() -> str:
    """A short token to keep a test's topics, groups and well codes its own."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def settings_env(infra: Infra, unique: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """``WELLSTREAM_*`` variables pointing at the real services, with topics of this
    test's own; also set in the environment, so services built from settings see them."""
    env = {
        "WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS": infra.kafka,
        "WELLSTREAM_REDIS_URL": infra.redis,
        "WELLSTREAM_CLICKHOUSE_URL": infra.clickhouse,
        "WELLSTREAM_TOPIC_RAW": f"test.{unique}.raw",
        "WELLSTREAM_TOPIC_NORMALIZED": f"test.{unique}.normalized",
        "WELLSTREAM_TOPIC_DLQ": f"test.{unique}.dlq",
        "WELLSTREAM_CONSUMER_GROUP_PREFIX": f"test.{unique}",
        "WELLSTREAM_LOG_JSON": "false",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def base_settings(settings_env: dict[str, str]) -> Settings:
    return Settings()


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Every span of the tracers configured in the test; none left configured after."""
    memory = InMemorySpanExporter()
    monkeypatch.setattr(tracing, "_processors", [SimpleSpanProcessor(memory)])
    monkeypatch.setattr(tracing, "_tracers", {})
    yield memory
    memory.shutdown()
