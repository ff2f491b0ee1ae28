"""Reads, SQL first: each method runs one parameterized query (``gateway.sql``) and
returns a response model."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, Literal

import orjson

from contracts.derived import derived
from gateway import cursor, listing, periods, sql
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
from gateway.sql import Scope
from gateway.visibility import Viewer, narrowed
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


def rates(start: date, unit: str, dop: Any, *volumes: Any) -> list[float | None]:
    """Each volume's calendar-day and producing-day rate (``models.Rates``)."""
    days = periods.days(start, unit)
    found: list[float | None] = []
    for v in volumes:
        found.append(None if v is None else v / days)
        found.append(None if v is None or not dop or dop <= 0 else v / dop)
    return found


def point(bucket: date, unit: str, sums: tuple[Any, ...]) -> ProductionPoint:
    return ProductionPoint(**point_item((bucket, unit, *sums)))


CUMULATIVE_KEYS: Final = ("cum_oil_bbl", "cum_gas_mcf", "cum_water_bbl")
POINT_KEYS: Final = tuple(k for k in ProductionPoint.model_fields if k not in CUMULATIVE_KEYS)


def point_item(row: tuple[Any, ...]) -> dict[str, Any]:
    """One series row as the item ``ProductionPoint`` describes, built without a model:
    a series has hundreds of points and this is the hot path of every uncached read.
    A row of a cumulative series ends with its running totals."""
    bucket, unit, dop, oil, gas, water, liquids, *cumulative = row
    item = dict(
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
                *rates(bucket, unit, dop, oil, gas, water),
            ),
            strict=True,
        )
    )
    if cumulative:
        item.update(zip(CUMULATIVE_KEYS, cumulative, strict=True))
    return item


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
    cumulative: bool = False


class Queries:
    """The reads of one reader: every query runs through ``rows``, with the reader's
    visibility bound (``visibility.visible``), its shares read once (``granted``)."""

    def __init__(
        self,
        ch: ClickHouse,
        viewer: Viewer,
        granted: Callable[[Viewer], Awaitable[Viewer]] | None = None,
    ) -> None:
        self._ch = ch
        self._viewer = viewer
        self._granted = granted

    async def rows(self, query: str, params: dict[str, Any] | None = None) -> list[Any]:
        """``query``'s rows as this reader sees them."""
        if self._granted is not None:
            self._viewer, self._granted = await self._granted(self._viewer), None
        return await self._ch.rows(*narrowed(query, self._viewer, params))

    async def series(self, q: SeriesQuery) -> SeriesPage:
        """One page of the series; ``next_cursor`` holds its last key when more follow."""
        params: dict[str, Any] = {"code": q.code, "start": q.start, "end": q.end}
        params["limit"] = q.limit + 1
        if q.after is not None:
            params["after"], params["after_unit"] = q.after
        query = sql.series(q.scope, q.granularity, after=bool(q.after))
        if q.cumulative:  # every period counts in the totals; those from `start` are listed
            params["start"], params["shown_from"] = EARLIEST, q.start
            query = sql.series_cumulative(q.scope, q.granularity, after=bool(q.after))
        rows = await self.rows(query, params)
        page = rows[: q.limit]
        more = len(rows) > q.limit
        token = cursor.encode([page[-1][0].isoformat(), page[-1][1]]) if more else None
        return SeriesPage(q.granularity, [point_item(row) for row in page], token)

    async def _summary(self, scope: Scope, code: str) -> tuple[ProductionPoint | None, Totals]:
        params = {"code": code, "start": EARLIEST, "end": LATEST}
        (last, *sums, count), *_ = await self.rows(sql.summary(scope), params)
        latest = point(last[0], last[1], tuple(last[2:])) if count else None
        return latest, totals(tuple(sums))

    async def exists(self, scope: Scope, code: str) -> bool:
        (found,), *_ = await self.rows(sql.exists(scope), {"code": code})
        return bool(found)

    async def wells(
        self,
        *,
        limit: int,
        after: tuple[str | date, str] | None,
        sort: listing.WellSort = "well_code",
        order: Literal["asc", "desc"] = "asc",
        **filters: str | None,
    ) -> WellPage:
        """A page of wells in ``sort`` and ``order``, past ``after`` (the sort key and
        code of the last well of the page before); ``filters``: ``q``, ``field``,
        ``operator``, ``basin``."""
        key, code = after or (None, None)
        params: dict[str, Any] = {"limit": limit + 1, "after_key": key, "after": code, **filters}
        kept = frozenset(name for name, value in filters.items() if value)
        query = listing.wells(
            one=False, after=after is not None, filters=kept, sort=sort, descending=order == "desc"
        )
        rows = await self.rows(query, params)
        items = [well_summary(row) for row in rows[:limit]]
        token = None
        if len(rows) > limit:
            last = getattr(items[-1], sort)  # the sorts are the summary's own fields
            ended = "" if last is None else str(last)
            token = cursor.encode([sort, order, ended, items[-1].well_code])
        return WellPage(items=items, next_cursor=token)

    async def well(self, well_code: str) -> WellDetail | None:
        query = listing.wells(one=True, after=False)
        rows = await self.rows(query, {"code": well_code, "limit": 1})
        if not rows:
            return None
        latest, cumulative = await self._summary("well", well_code)
        summary = well_summary(rows[0]).model_dump()
        return WellDetail(**summary, latest=latest, cumulative=cumulative)

    async def field(self, field_code: str) -> FieldDetail | None:
        (name, wells, first, last), *_ = await self.rows(sql.FIELD, {"code": field_code})
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
        (records, wells, fields, first, last, ingest), *_ = await self.rows(sql.STATS)
        (dead,), *_ = await self.rows(sql.DEAD_LETTERS_COUNT)
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
        rows = await self.rows(query, {k: v for k, v in params.items() if v is not None})
        items = [dead_letter(row) for row in rows[:limit]]
        token = None
        if len(rows) > limit:
            token = cursor.encode([items[-1].failed_at.isoformat(), items[-1].id])
        return DeadLetterPage(items=items, next_cursor=token)
