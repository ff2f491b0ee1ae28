"""Reads, SQL first: each method runs one parameterized query (``gateway.sql``) and
returns a response model."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

import orjson

from contracts.derived import derived
from gateway import cursor, periods, sql
from gateway.models import (
    UNITS,
    DeadLetterItem,
    DeadLetterPage,
    DeadLetterSource,
    FieldDetail,
    PeriodRange,
    ProductionPoint,
    Stats,
    Totals,
    WellDetail,
    WellPage,
    WellSummary,
)
from gateway.periods import Granularity
from gateway.sql import Scope, Viewer
from runtime.clickhouse import ClickHouse

EARLIEST = date(1900, 1, 1)  # the range of ClickHouse's Date32
LATEST = date(2299, 12, 31)


def totals(sums: tuple[Any, ...]) -> Totals:
    dop, oil, gas, water, liquids = sums
    boe, water_cut, gor = derived(oil, gas, water, liquids)
    return Totals(
        days_on_production=dop,
        oil_bbl=oil,
        gas_mcf=gas,
        water_bbl=water,
        liquids_bbl=liquids,
        boe=boe,
        water_cut=water_cut,
        gor=gor,
    )


def point(bucket: date, unit: str, sums: tuple[Any, ...]) -> ProductionPoint:
    return ProductionPoint(period=periods.label(bucket, unit), **totals(sums).model_dump())


POINT_KEYS: Final = tuple(ProductionPoint.model_fields)


def point_item(row: tuple[Any, ...]) -> dict[str, Any]:
    """One series row as the item ``ProductionPoint`` describes, built without a model:
    a series has hundreds of points and this is the hot path of every uncached read."""
    bucket, unit, dop, oil, gas, water, liquids = row
    return dict(
        zip(
            POINT_KEYS,
            (
                periods.label(bucket, unit),
                dop,
                oil,
                gas,
                water,
                liquids,
                *derived(oil, gas, water, liquids),
            ),
            strict=True,
        )
    )


@dataclass(frozen=True, slots=True)
class SeriesPage:
    """One page of a series, in the shape of ``ProductionSeries``."""

    granularity: Granularity
    items: list[dict[str, Any]]
    next_cursor: str | None

    def json(self) -> bytes:
        return orjson.dumps(
            {
                "granularity": self.granularity,
                "units": UNITS,
                "items": self.items,
                "next_cursor": self.next_cursor,
            }
        )


def well_summary(row: tuple[Any, ...]) -> WellSummary:
    code, name, reference, fields, operator, status, first, last = row
    return WellSummary(
        well_code=code,
        well_name=name,
        well_reference=reference,
        field_codes=list(fields),
        operator=operator,
        well_status=status,
        first_period=first,
        last_period=last,
    )


def dead_letter(row: tuple[Any, ...]) -> DeadLetterItem:
    id_, stage, errors, topic, partition, offset, line, failed_at, payload, encoded, *replay = row
    source = None
    if topic is not None and partition is not None and offset is not None:
        source = DeadLetterSource(topic=topic, partition=partition, offset=offset)
    return DeadLetterItem(
        id=id_,
        stage=stage,
        errors=orjson.loads(errors or "[]"),
        source=source,
        line=line,
        failed_at=failed_at,
        payload=payload,
        payload_base64=encoded,
        accepted_at_ms=replay[0],
        payload_truncated=bool(replay[1]),
    )


@dataclass(frozen=True, slots=True)
class SeriesQuery:
    scope: Scope
    code: str
    start: date
    end: date
    granularity: Granularity
    limit: int
    after: tuple[date, str] | None = None


class Queries:
    """The reads of one caller: every query runs with the caller's visibility bound
    (``sql.visible``'s parameters), and only through ``_rows``."""

    def __init__(self, ch: ClickHouse, viewer: Viewer) -> None:
        self._ch = ch
        self._viewer = viewer.params()

    async def _rows(self, query: str, params: dict[str, Any] | None = None) -> list[Any]:
        return await self._ch.rows(query, {**(params or {}), **self._viewer})

    async def series(self, q: SeriesQuery) -> SeriesPage:
        """One page of the series; ``next_cursor`` holds its last key when more follow."""
        params: dict[str, Any] = {"code": q.code, "start": q.start, "end": q.end}
        params["limit"] = q.limit + 1
        if q.after is not None:
            params["after"], params["after_unit"] = q.after
        rows = await self._rows(sql.series(q.scope, q.granularity, after=bool(q.after)), params)
        page = rows[: q.limit]
        more = len(rows) > q.limit
        token = cursor.encode([page[-1][0].isoformat(), page[-1][1]]) if more else None
        return SeriesPage(q.granularity, [point_item(row) for row in page], token)

    async def _summary(self, scope: Scope, code: str) -> tuple[ProductionPoint | None, Totals]:
        params = {"code": code, "start": EARLIEST, "end": LATEST}
        (last, *sums, count), *_ = await self._rows(sql.summary(scope), params)
        latest = point(last[0], last[1], tuple(last[2:])) if count else None
        return latest, totals(tuple(sums))

    async def exists(self, scope: Scope, code: str) -> bool:
        (found,), *_ = await self._rows(sql.exists(scope), {"code": code})
        return bool(found)

    async def wells(
        self, *, limit: int, after: str | None, q: str | None, field: str | None
    ) -> WellPage:
        params: dict[str, Any] = {"limit": limit + 1, "after": after, "q": q, "field": field}
        query = sql.wells(one=False, after=after is not None, search=bool(q), field=bool(field))
        rows = await self._rows(query, {k: v for k, v in params.items() if v is not None})
        items = [well_summary(row) for row in rows[:limit]]
        token = cursor.encode([items[-1].well_code]) if len(rows) > limit else None
        return WellPage(items=items, next_cursor=token)

    async def well(self, well_code: str) -> WellDetail | None:
        query = sql.wells(one=True, after=False, search=False, field=False)
        rows = await self._rows(query, {"code": well_code, "limit": 1})
        if not rows:
            return None
        latest, cumulative = await self._summary("well", well_code)
        summary = well_summary(rows[0]).model_dump()
        return WellDetail(**summary, latest=latest, cumulative=cumulative)

    async def field(self, field_code: str) -> FieldDetail | None:
        (name, wells, first, last), *_ = await self._rows(sql.FIELD, {"code": field_code})
        if not wells:
            return None
        latest, cumulative = await self._summary("field", field_code)
        return FieldDetail(
            field_code=field_code,
            field_name=name,
            wells=wells,
            first_period=first,
            last_period=last,
            latest=latest,
            cumulative=cumulative,
        )

    async def stats(self) -> Stats:
        (records, wells, fields, first, last, ingest), *_ = await self._rows(sql.STATS)
        (dead,), *_ = await self._rows(sql.DEAD_LETTERS_COUNT)
        return Stats(
            records=records,
            wells=wells,
            fields=fields,
            period_range=PeriodRange(first=first, last=last),
            last_ingest_at=ingest,
            dead_letters=dead,
        )

    async def dead_letters(
        self,
        *,
        limit: int,
        stage: str | None = None,
        code: str | None = None,
        after: tuple[datetime, str] | None = None,
        ids: list[str] | None = None,
    ) -> DeadLetterPage:
        params: dict[str, Any] = {"limit": limit + 1, "stage": stage, "code": code, "ids": ids}
        if after is not None:
            params["after_at"], params["after_id"] = after
        query = sql.dead_letters(
            ids=bool(ids), stage=bool(stage), code=bool(code), after=after is not None
        )
        rows = await self._rows(query, {k: v for k, v in params.items() if v is not None})
        items = [dead_letter(row) for row in rows[:limit]]
        token = None
        if len(rows) > limit:
            token = cursor.encode([items[-1].failed_at.isoformat(), items[-1].id])
        return DeadLetterPage(items=items, next_cursor=token)
