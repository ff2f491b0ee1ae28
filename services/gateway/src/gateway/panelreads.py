"""The dashboard's reads (``gateway.dashboard``), SQL first like ``gateway.queries``:
each method runs one query and returns a model of ``gateway.panels``. Their SQL is here,
built on ``gateway.sql``'s fragments (each well's periods, the buckets), under the same
rules: bound parameters only, no FINAL, the latest version of each record, the reader's
records only (``visibility.visible``)."""

from datetime import date, datetime
from typing import Any, Final, Literal, get_args

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
from gateway.queries import EARLIEST, LATEST, Queries
from gateway.visibility import visible

#: ``visibility.visible`` of the audit history, in a template formatted once more.
HISTORY: Final = visible("production_history").replace("{", "{{").replace("}", "}}")

# Every version of each record of a well, newest first, as the audit history keeps them
# (a replayed insert of the same version is read once).
RECORD_HISTORY = f"""
SELECT record_id, any(period), any(field_code), any(data_source), min(period_start) AS start,
       arrayReverseSort(x -> x.1, groupArray(
           (version, revision, ingested_at, flags, days_on_production,
            oil_bbl, gas_mcf, water_bbl, liquids_bbl))) AS versions
FROM (
    SELECT * {HISTORY} AND well_code = {{{{code:String}}}}
    LIMIT 1 BY record_id, version
)
GROUP BY record_id
{{after}}
ORDER BY start, record_id
LIMIT {{{{limit:UInt32}}}}
"""

# One stream of a field per well and bucket, its ``top`` wells by volume each on its
# own and the others summed under the empty code (with how many they are); the wells'
# periods are read once, ranked by window functions.
CONTRIBUTIONS = """
SELECT code, bucket, sum(volume), uniqExact(well_code)
FROM (
    SELECT well_code, bucket, volume,
           if(dense_rank() OVER (ORDER BY total DESC, well_code) <= {{top:UInt32}},
              well_code, '') AS code
    FROM (
        SELECT well_code, bucket, volume, sum(volume) OVER (PARTITION BY well_code) AS total
        FROM (
            SELECT well_code, {bucket} AS bucket, sum({stream}) AS volume
            FROM ({per_well_period})
            GROUP BY well_code, bucket
        )
    )
)
GROUP BY code, bucket
ORDER BY code = '', code, bucket
"""

# Dead letters per day and rejection code since ``since`` (a letter with several codes
# counts under each).
DEAD_LETTER_REASONS = f"""
SELECT toDate(failed_at) AS day, code, uniqExact(id)
FROM (
    SELECT id, failed_at, error_codes {visible("dead_letters")}
    AND failed_at >= {{since:DateTime64(3, 'UTC')}}
)
ARRAY JOIN if(empty(error_codes), ['unknown'], error_codes) AS code
GROUP BY day, code
ORDER BY day, code
"""

#: The volume columns a contribution chart may show.
Stream = Literal["oil", "gas", "water", "liquids"]
STREAMS: Final = get_args(Stream)


def record_history_sql(*, after: bool) -> str:
    cond = "HAVING (start, record_id) > ({after:Date32}, {after_id:String})" if after else ""
    return RECORD_HISTORY.format(after=cond)


def contributions_sql(stream: str, granularity: Granularity) -> str:
    """A field's ``stream`` per well (its share reported to the field) and bucket."""
    if stream not in STREAMS:
        raise ValueError(f"not a stream: {stream}")
    return CONTRIBUTIONS.format(
        bucket=sql.BUCKETS[granularity][0],
        stream=stream,
        per_well_period=sql.per_well_period("field"),
    )


class PanelReads:
    """The dashboard's reads of one reader, through its ``Queries`` (the reader's
    visibility bound to each)."""

    def __init__(self, queries: Queries) -> None:
        self._ch = queries

    async def record_history(
        self, well_code: str, *, limit: int, after: tuple[date, str] | None
    ) -> RecordHistoryPage:
        params: dict[str, Any] = {"code": well_code, "limit": limit + 1}
        if after is not None:
            params["after"], params["after_id"] = after
        rows = await self._ch.rows(record_history_sql(after=after is not None), params)
        items = [record_history(row) for row in rows[:limit]]
        token = None
        if len(rows) > limit:
            token = cursor.encode([rows[limit - 1][4].isoformat(), items[-1].record_id])
        return RecordHistoryPage(items=items, next_cursor=token)

    async def contributions(
        self, field_code: str, stream: str, granularity: Granularity, top: int
    ) -> Contributions:
        query = contributions_sql(stream, granularity)
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
        rows = await self._ch.rows(DEAD_LETTER_REASONS, {"since": since})
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
