"""``runtime.tracing``: off, nothing is injected and no span made; on, a server span per
request, a producer span whose ``traceparent`` the messages carry, links per batch."""

from typing import Any, cast

import httpx
import pytest
from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from ingestor.parsing import Item
from ingestor.publish import Publisher
from runtime import tracing
from runtime.http import create_app
from runtime.settings import Settings
from validator import handlers
from writer.handlers import store_records

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class Broker:
    """What the publisher uses of FastStream's broker: the headers of each message."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []

    async def publish(self, body: bytes, topic: str, **kwargs: Any) -> None:
        self.headers.append(kwargs["headers"])


async def _published(service_settings: Settings) -> list[dict[str, str]]:
    tracing.configure("ingestor", service_settings)
    broker = Broker()
    publisher = Publisher(cast(KafkaBroker, broker), raw_topic="raw", dlq_topic="dlq")
    publisher.connected = True
    items = [Item(1, b"{}", key="w1"), Item(2, b"{}", key="w2")]
    await publisher.publish_all([items], "c1", organisation="default")
    return broker.headers


async def test_off_nothing_is_injected_and_no_span_made(exporter: InMemorySpanExporter) -> None:
    off = Settings()
    headers = await _published(off)
    await store_records([], cast(Any, Inserts()), publish=_nothing)

    assert off.otel_enabled is False
    assert tracing.configure("validator", off) is tracing.tracer("validator") is None
    assert headers
    assert all(tracing.TRACEPARENT not in h for h in headers)
    assert all(name != tracing.TRACEPARENT for name, _ in handlers._headers("c1", b"1", None))
    assert exporter.get_finished_spans() == ()


async def test_on_every_message_carries_the_publish_spans_traceparent(
    exporter: InMemorySpanExporter,
) -> None:
    headers = await _published(Settings(otel_enabled=True))

    [span] = exporter.get_finished_spans()
    assert (span.name, span.kind) == ("publish raw", SpanKind.PRODUCER)
    carried = {h[tracing.TRACEPARENT] for h in headers}
    assert len(carried) == 1
    context = tracing.context_of(carried.pop().encode())
    assert context is not None
    assert context.span_id == span.context.span_id


async def test_a_request_gets_a_server_span_child_of_the_callers(
    exporter: InMemorySpanExporter,
) -> None:
    app = create_app(
        "gateway", Settings(otel_enabled=True), lifespan=None, checks={}, description=""
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        answer = await client.get("/health/live", headers={"traceparent": PARENT})

    assert answer.status_code == 200
    [span] = exporter.get_finished_spans()
    assert (span.name, span.kind) == ("GET /health/live", SpanKind.SERVER)
    assert span.resource.attributes["service.name"] == "wellstream-gateway"
    assert span.parent is not None
    assert f"{span.parent.trace_id:032x}" in PARENT
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 200


def test_links_name_each_distinct_valid_traceparent_once() -> None:
    other = PARENT.replace("b7ad6b7169203331", "b7ad6b7169203332").encode()
    values = [PARENT.encode(), None, b"not a traceparent", PARENT.encode(), other]
    many = [f"00-{i + 1:032x}-{i + 1:016x}-01".encode() for i in range(200)]

    assert [link.context.span_id for link in tracing.links(values)] == [
        0xB7AD6B7169203331,
        0xB7AD6B7169203332,
    ]
    assert len(tracing.links(many)) == tracing.MAX_LINKS
    assert tracing.traceparent_of(None) is None
    assert tracing.traceparent_of([("a", b"1"), ("traceparent", b"x")]) == b"x"


def test_an_endpoint_exports_over_otlp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracing, "_tracers", {})
    settings = Settings(otel_enabled=True, otel_exporter_otlp_endpoint="http://127.0.0.1:9/")
    assert tracing.configure("writer", settings) is tracing.tracer("writer") is not None


class Inserts:
    async def chunks(self, chunks: object, publish: object) -> Any:
        from writer.inserts import Stored

        return Stored()


async def _nothing(letters: object) -> None:
    return None
