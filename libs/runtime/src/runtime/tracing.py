"""Tracing: OpenTelemetry spans, the W3C ``traceparent`` carried in HTTP and Kafka headers.

``configure`` (called by ``runtime.http.create_app`` for every service) makes a tracer
for the service when ``otel_enabled``; spans are exported over OTLP/HTTP when
``otel_exporter_otlp_endpoint`` is set too. Off (the default), ``tracer`` answers None and
the services take their untraced paths: no span, no header injected, nothing per record.

A Kafka consumer handles a batch mixing records of many requests, so its span is not
the child of any one of them: it starts a trace of its own and links to the context of
each distinct ``traceparent`` in the batch (as OpenTelemetry's messaging conventions do
for batches). Each record's ``traceparent`` is carried forward to what is published from
it, so the next hop links to the request that sent the record.
"""

from collections.abc import Iterable
from typing import Final

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, SpanContext, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runtime.settings import Settings

TRACEPARENT: Final = "traceparent"
#: Links a batch span keeps at most (the SDK's default limit).
MAX_LINKS: Final = 128

_PROPAGATOR: Final = TraceContextTextMapPropagator()
_tracers: dict[str, Tracer] = {}
_processors: list[SpanProcessor] = []


def add_processor(processor: SpanProcessor) -> None:
    """Add ``processor`` to every tracer configured from now on (tests: an in-memory
    exporter)."""
    _processors.append(processor)


def configure(service: str, settings: Settings) -> Tracer | None:
    """The tracer of ``service`` (None: tracing is off), kept for ``tracer(service)``."""
    if not settings.otel_enabled:
        _tracers.pop(service, None)
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": f"wellstream-{service}"}))
    if settings.otel_exporter_otlp_endpoint:
        url = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    for processor in _processors:
        provider.add_span_processor(processor)
    _tracers[service] = provider.get_tracer("wellstream")
    return _tracers[service]


def tracer(service: str) -> Tracer | None:
    """The tracer ``configure`` made for ``service``; None while tracing is off."""
    return _tracers.get(service)


def inject(carrier: dict[str, str]) -> None:
    """Add the current span's ``traceparent`` to ``carrier`` (message headers)."""
    _PROPAGATOR.inject(carrier)


def traceparent_of(headers: Iterable[tuple[str, bytes | None]] | None) -> bytes | None:
    """The ``traceparent`` among a Kafka record's headers, if any."""
    for name, value in headers or ():
        if name == TRACEPARENT:
            return value
    return None


def context_of(traceparent: bytes | None) -> SpanContext | None:
    """The span context a ``traceparent`` value names (None: none, or not valid)."""
    if not traceparent:
        return None
    carrier = {TRACEPARENT: traceparent.decode("latin-1")}
    context = trace.get_current_span(_PROPAGATOR.extract(carrier)).get_span_context()
    return context if context.is_valid else None


def links(traceparents: Iterable[bytes | None]) -> list[Link]:
    """A link to each distinct valid ``traceparent`` (at most ``MAX_LINKS``)."""
    found = []
    for value in dict.fromkeys(traceparents):
        context = context_of(value)
        if context is not None:
            found.append(Link(context))
            if len(found) == MAX_LINKS:
                break
    return found


class TraceRequests:
    """A server span around each HTTP request, the child of the caller's ``traceparent``
    when it sent one; named by method and route once the router matched one."""

    def __init__(self, app: ASGIApp, tracer: Tracer) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in (b"traceparent", b"tracestate")
        }
        method = scope["method"]
        with self.tracer.start_as_current_span(
            method,
            context=_PROPAGATOR.extract(carrier),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"]},
        ) as span:

            async def send_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", message["status"])
                await send(message)

            try:
                await self.app(scope, receive, send_status)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if route is not None:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
