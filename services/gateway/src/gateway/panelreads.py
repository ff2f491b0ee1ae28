"""The dashboard's reads (``gateway.dashboard``), SQL first like ``gateway.queries``:
each method runs one query of ``gateway.sql`` and returns a model of ``gateway.panels``."""

from datetime import date, datetime
from typing import Any

from gateway import cursor, periods, sql
from gateway.models import UNITS
from gateway.panels import (
    Contribution,
    Contributions,
    DeadLetterReasons,
    ReasonCount,
    RecordHistory,
    RecordHistoryPage,
    RecordVersion,
)
from gateway.periods import Granularity
from gateway.queries import EARLIEST, LATEST
from runtime.clickhouse import ClickHouse


class PanelReads:
    def __init__(self, ch: ClickHouse) -> None:
        self._ch = ch

    async def record_history(
        self, well_code: str, *, limit: int, after: tuple[date, str] | None
    ) -> RecordHistoryPage:
        params: dict[str, Any] = {"code": well_code, "limit": limit + 1}
        if after is not None:
            params["after"], params["after_id"] = after
        rows = await self._ch.rows(sql.record_history(after=after is not None), params)
        items = [record_history(row) for row in rows[:limit]]
        token = None
        if len(rows) > limit:
            token = cursor.encode([rows[limit - 1][4].isoformat(), items[-1].record_id])
        return RecordHistoryPage(items=items, next_cursor=token)

    async def contributions(
        self, field_code: str, stream: str, granularity: Granularity, top: int
    ) -> Contributions:
        query = sql.contributions(stream, granularity)
        params = {"code": field_code, "start": EARLIEST, "end": LATEST, "top": top}
        rows = await self._ch.rows(query, params)
        unit = "month" if granularity == "month" else "year"
        buckets = sorted({row[1] for row in rows})
        at = {bucket: i for i, bucket in enumerate(buckets)}
        series: dict[str, Contribution] = {}
        for code, bucket, volume, wells in rows:
            found = series.setdefault(
                code,
                Contribution(well_code=code or None, wells=0, total=0.0, values=[None] * len(at)),
            )
            found.values[at[bucket]] = volume
            found.total += volume or 0.0
            found.wells = max(found.wells, wells)
        ordered = sorted(series.values(), key=lambda s: (s.well_code is None, -s.total))
        return Contributions(
            field_code=field_code,
            stream=stream,
            volume_unit=UNITS[next(k for k in UNITS if k.startswith(f"{stream}_"))],
            granularity=granularity,
            periods=[periods.label(bucket, unit) for bucket in buckets],
            series=ordered,
        )

    async def dead_letter_reasons(self, since: datetime) -> DeadLetterReasons:
        rows = await self._ch.rows(sql.DEAD_LETTER_REASONS, {"since": since})
        items = [ReasonCount(day=day, error_code=code, count=n) for day, code, n in rows]
        return DeadLetterReasons(since=since, items=items)


def record_history(row: tuple[Any, ...]) -> RecordHistory:
    record_id, period, field_code, source, _start, versions = row
    names = tuple(RecordVersion.model_fields)
    kept = [RecordVersion(**dict(zip(names, v, strict=True))) for v in versions]
    return RecordHistory(
        record_id=record_id,
        period=period,
        field_code=field_code,
        data_source=source,
        flags=kept[0].flags if kept else [],
        versions=kept,
    )
