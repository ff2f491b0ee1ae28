"""Helpers for the gateway's integration tests: rows straight into ``production_history``
(the writer's MV feeds ``production``) and a gateway app bound to the test stack."""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any

import httpx

from contracts.derived import derived as derived_values
from contracts.identifiers import canonical_code
from gateway.app import create_app
from gateway.config import GatewaySettings
from runtime.clickhouse import ClickHouse

READ_KEY = "gateway-read-key-0123456789"
ADMIN_KEY = "gateway-admin-key-0123456789"


@dataclass
class Row:
    well_code: str
    period: str
    field_code: str = "F1"
    version: int = 1
    days_on_production: float | None = None
    oil_bbl: float | None = None
    gas_mcf: float | None = None
    water_bbl: float | None = None
    liquids_bbl: float | None = None
    data_source: str = "test"
    well_name: str | None = None
    field_name: str | None = None
    operator: str | None = None
    basin: str | None = None
    flags: list[str] = field(default_factory=list)
    organisation: str = "default"

    def __post_init__(self) -> None:
        # stored rows hold canonical codes, as the validator writes them
        self.well_code = canonical_code(self.well_code)
        self.field_code = canonical_code(self.field_code) if self.field_code else ""

    @property
    def period_type(self) -> str:
        return "day" if len(self.period) == 10 else "month"

    @property
    def period_start(self) -> date:
        return date.fromisoformat(self.period if len(self.period) == 10 else f"{self.period}-01")

    @property
    def record_id(self) -> str:
        key = (self.well_code, self.field_code, self.period, self.period_type, self.data_source)
        return "|".join((*key, self.organisation))


async def insert(ch: ClickHouse, rows: Sequence[Row]) -> None:
    plain = [f.name for f in fields(Row)]
    derived = ["record_id", "period_type", "period_start", "days_in_period", "ingested_at"]
    derived += ["boe", "water_cut", "gor"]  # as the validator derives them
    now = datetime.now(UTC)
    columns: list[list[object]] = [[getattr(r, name) for r in rows] for name in plain]
    columns += [
        [r.record_id for r in rows],
        [r.period_type for r in rows],
        [r.period_start for r in rows],
        [_days_in(r) for r in rows],
        [now for _ in rows],
    ]
    values = [derived_values(r.oil_bbl, r.gas_mcf, r.water_bbl, r.liquids_bbl) for r in rows]
    columns += [list(column) for column in zip(*values, strict=True)] if rows else [[], [], []]
    await ch.insert("production_history", columns, plain + derived)


async def add_dead_letter(
    ch: ClickHouse,
    id_: str,
    payload: str,
    code: str,
    failed_at: datetime | None = None,
    organisation: str = "default",
) -> None:
    """A validator dead letter of ``organisation`` in ``dead_letters``, as the writer
    stores it."""
    errors = f'[{{"field": "volumes.oil.unit", "code": "{code}", "message": "unit bbl/d"}}]'
    columns: list[list[Any]] = [
        [id_],
        ["validator"],
        [errors],
        [[code]],
        ["raw"],
        [0],
        [7],
        [payload],
        [0],
        [0],
        [failed_at or datetime(1970, 1, 1, tzinfo=UTC)],
        [organisation],
    ]
    names = ["id", "stage", "errors", "error_codes", "source_topic", "source_partition"]
    names += ["source_offset", "payload", "kafka_partition", "kafka_offset", "failed_at"]
    names += ["organisation"]
    await ch.insert("dead_letters", columns, names)


def _days_in(row: Row) -> int:
    start = row.period_start
    return 1 if row.period_type == "day" else calendar.monthrange(start.year, start.month)[1]


def settings(**overrides: object) -> GatewaySettings:
    keys = [
        {"name": "reader", "key": READ_KEY, "scopes": ["read"]},
        {"name": "operator", "key": ADMIN_KEY, "scopes": ["admin"]},
    ]
    return GatewaySettings.model_validate(
        {"api_keys": keys, "rate_limit_requests": 100_000, **overrides}
    )


async def until_kafka(api: httpx.AsyncClient, within_s: float = 30.0) -> None:
    """Wait for the gateway behind ``api`` to reach Kafka (it connects in the
    background: it starts, and reads, without it)."""
    clients = api._transport.app.state.clients  # type: ignore[attr-defined]
    deadline = time.monotonic() + within_s
    while clients.broker is None:
        assert time.monotonic() < deadline, "the gateway did not reach Kafka"
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def serve(gateway_settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(gateway_settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=transport, base_url="http://gateway", headers={"X-API-Key": READ_KEY}
        ) as client,
    ):
        yield client
