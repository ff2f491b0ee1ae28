"""Pipeline health for the dashboard's overview: each configured service's readiness,
consumer lag and throughput, read from its own ``/health/ready`` and ``/metrics``.

Throughput is the change of the service's record counter since the previous check,
per second; the gateway keeps the last reading of each service in memory.
"""

import asyncio
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

import httpx
from fastapi import APIRouter
from prometheus_client.parser import text_string_to_metric_families

from gateway.config import GatewaySettings
from gateway.deps import Clients
from gateway.panels import Pipeline, ServiceHealth
from gateway.params import guard
from gateway.routes import PREFIX, SCOPE
from runtime.errors import error_responses

TIMEOUT_S: Final = 2.0
#: The counter of records each service handles, by the metric family's name.
RECORD_COUNTERS: Final = frozenset(
    {
        "wellstream_ingestor_records",
        "wellstream_validator_records",
        "wellstream_writer_rows_inserted",
    }
)


def read_metrics(text: str) -> tuple[float | None, float | None]:
    """Consumer lag (summed over every ``*_consumer_lag`` gauge) and records handled
    (summed over the record counters), each null when the service exposes none."""
    lag: float | None = None
    records: float | None = None
    for family in text_string_to_metric_families(text):
        values = [s.value for s in family.samples if not s.name.endswith("_created")]
        if family.name.endswith("_consumer_lag"):
            lag = (lag or 0.0) + sum(values)
        elif family.name in RECORD_COUNTERS:
            records = (records or 0.0) + sum(values)
    return lag, records


class Checks:
    """Checks the services and keeps each one's last record count, for the rate."""

    def __init__(self, services: dict[str, str]) -> None:
        self._services = services
        self._last: dict[str, tuple[float, float]] = {}

    def _rate(self, name: str, records: float | None) -> float | None:
        if records is None:
            return None
        now = time.monotonic()
        previous = self._last.get(name)
        self._last[name] = (now, records)
        if previous is None or now <= previous[0]:
            return None
        return max(records - previous[1], 0.0) / (now - previous[0])

    async def _one(self, http: httpx.AsyncClient, name: str, url: str) -> ServiceHealth:
        base = url.rstrip("/")
        status: int | None = None
        try:
            ready = await http.get(f"{base}/health/ready")
            status = ready.status_code
            metrics = await http.get(f"{base}/metrics")
            metrics.raise_for_status()
            lag, records = read_metrics(metrics.text)
        except (httpx.HTTPError, ValueError) as exc:
            return ServiceHealth(
                name=name, url=base, ready=status == 200, status=status, error=str(exc) or
                type(exc).__name__, consumer_lag=None, records_total=None,
                throughput_per_s=None,
            )  # fmt: skip
        return ServiceHealth(
            name=name,
            url=base,
            ready=status == 200,
            status=status,
            error=None,
            consumer_lag=lag,
            records_total=records,
            throughput_per_s=self._rate(name, records),
        )

    async def run(self) -> Pipeline:
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as http:
            found: Iterable[ServiceHealth] = await asyncio.gather(
                *(self._one(http, name, url) for name, url in self._services.items())
            )
        return Pipeline(checked_at=datetime.now(UTC), services=list(found))


def build_router(settings: GatewaySettings, clients: Clients) -> APIRouter:
    router = APIRouter(prefix=PREFIX, dependencies=guard(settings, clients, SCOPE))
    checks = Checks(settings.dashboard_services)

    @router.get(
        "/pipeline",
        response_model=Pipeline,
        responses=error_responses(400, 401, 403, 429),
        summary="Readiness, consumer lag and throughput of each configured service",
        tags=["stats"],
    )
    async def pipeline() -> Pipeline:
        return await checks.run()

    return router
