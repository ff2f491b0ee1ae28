"""One record's trace, from the HTTP intake through the raw and normalized topics to its
insert, on the real broker and ClickHouse, spans kept by an in-memory exporter."""

import asyncio

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from runtime import tracing
from runtime.clickhouse import ClickHouse
from runtime.kafka import ensure_topics
from tests.integration import ingestor_support
from tests.integration.kafka_support import consume
from tests.integration.test_validator_kafka import LETTERS, raw
from validator.app import create_app as validator_app
from validator.config import ValidatorSettings
from writer.app import create_app as writer_app
from writer.config import WriterSettings

pytestmark = pytest.mark.integration


def _one(spans: tuple[ReadableSpan, ...], service: str, name: str) -> ReadableSpan:
    found = [
        s
        for s in spans
        if s.name == name and s.resource.attributes["service.name"] == f"wellstream-{service}"
    ]
    assert len(found) >= 1, (service, name, [s.name for s in spans])
    return found[0]


def _linked(span: ReadableSpan) -> set[int]:
    return {link.context.trace_id for link in span.links}


async def _stored(ch: ClickHouse, well: str, within: float = 60) -> None:
    sql = "SELECT count() FROM production_history WHERE well_code = {w:String}"
    for _ in range(int(within / 0.25)):
        if (await ch.rows(sql, parameters={"w": well}))[0][0]:
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"{well} not stored within {within}s")


async def test_one_records_trace_runs_from_the_request_to_its_insert(
    exporter: InMemorySpanExporter,
    clickhouse: ClickHouse,
    settings_env: dict[str, str],
    unique: str,
) -> None:
    intake = ingestor_support.settings(otel_enabled=True)
    validating = ValidatorSettings(reference_enabled=False, batch_timeout_ms=50, otel_enabled=True)
    writing = WriterSettings(batch_max_wait_ms=100, migrate_on_start=True, otel_enabled=True)
    await ensure_topics(validating)
    well = "W" + unique.upper().translate(LETTERS)

    async with ingestor_support.running(intake) as client:
        answer = await client.post("/api/v1/records", content=b"[" + raw(well) + b"]")
        assert answer.status_code == 202, answer.text
    validator, writer = validator_app(validating), writer_app(writing)
    async with (
        validator.router.lifespan_context(validator),
        writer.router.lifespan_context(writer),
    ):
        await _stored(clickhouse, well)
    [normalized] = await consume(validating.kafka_bootstrap_servers, validating.topic_normalized, 1)

    spans = exporter.get_finished_spans()
    request = _one(spans, "ingestor", "POST /api/v1/records")
    publish = _one(spans, "ingestor", f"publish {intake.topic_raw}")
    batch = _one(spans, "validator", f"process {validating.topic_raw}")
    insert = _one(spans, "writer", "insert production_history")
    trace_id = request.context.trace_id
    assert publish.parent is not None
    assert publish.parent.span_id == request.context.span_id
    assert publish.context.trace_id == trace_id
    assert trace_id in _linked(batch), "the validator's batch links to the request"
    assert trace_id in _linked(insert), "the writer's insert links to the request"
    carried = tracing.context_of(tracing.traceparent_of(normalized.headers))
    assert carried is not None
    assert carried.trace_id == trace_id
    assert carried.span_id == publish.context.span_id
