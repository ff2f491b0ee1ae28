"""SQL text of every read. Only fixed fragments are spliced in (whitelisted columns and
bucket expressions); every value is a bound parameter.

Reads never depend on merges and never use FINAL: each record's current version is
``argMax(tuple(...), version)`` per natural key (``LATEST``); the tuple, because
``argMax`` skips a NULL argument: an older value would win over "not measured".
"""

from typing import Final, Literal

from gateway.periods import Granularity
from gateway.visibility import visible

#: ``visibility.visible`` (the reader's records only), in a template formatted once more.
PRODUCTION: Final = visible("production").replace("{", "{{").replace("}", "}}")

Scope = Literal["well", "field"]

SCOPE_COLUMN: Final[dict[Scope, str]] = {"well": "well_code", "field": "field_code"}
BUCKETS: Final[dict[Granularity, tuple[str, str]]] = {
    "day": ("period_start", "period_type"),
    "month": ("makeDate32(toYear(period_start), toMonth(period_start), 1)", "'month'"),
    "year": ("makeDate32(toYear(period_start), 1, 1)", "'year'"),
}

#: A record's natural key, which ``record_id`` hashes (``contracts.identifiers``; the
#: period's text is its start and type): the same groups as by the id, for less work.
NATURAL_KEY: Final = "well_code, field_code, period_start, period_type, data_source, organisation"
VALUES: Final = "days_on_production, oil_bbl, gas_mcf, water_bbl, liquids_bbl"

# ``where`` selects the records (a well, a field, a selection of wells); ``keys`` adds
# columns a grouping needs (its record's field, or its latest operator); ``values``, the
# columns taken from the latest version as ``v.1``, ``v.2``... (fewer: less read).
LATEST = f"""
SELECT well_code, period_start, period_type{{keys}},
       argMax(tuple({{values}}), version) AS v
{PRODUCTION} AND {{where}} AND period_start BETWEEN {{{{start:Date32}}}} AND {{{{end:Date32}}}}
GROUP BY {NATURAL_KEY}
"""

# Per well and period: volumes summed over the fields (and sources) it reported to,
# producing time the largest share, never the sum of repeated hours.
PER_WELL_PERIOD = """
SELECT well_code, period_start, period_type,
       max(v.1) AS dop, sum(v.2) AS oil, sum(v.3) AS gas, sum(v.4) AS water, sum(v.5) AS liquids
FROM ({latest})
GROUP BY well_code, period_start, period_type
"""

SERIES = """
SELECT {bucket} AS bucket, {unit} AS unit,
       sum(dop), sum(oil), sum(gas), sum(water), sum(liquids)
FROM ({per_well_period})
GROUP BY bucket, unit
{after}
ORDER BY bucket, unit
LIMIT {{limit:UInt32}}
"""

# The latest period (summed over wells) and the cumulative sums over every period.
SUMMARY = """
SELECT argMax((period_start, period_type, dop, oil, gas, water, liquids), period_start),
       sum(dop), sum(oil), sum(gas), sum(water), sum(liquids), count()
FROM (
    SELECT period_start, period_type,
           sum(dop) AS dop, sum(oil) AS oil, sum(gas) AS gas, sum(water) AS water,
           sum(liquids) AS liquids
    FROM ({per_well_period})
    GROUP BY period_start, period_type
)
"""

FIELD = f"""
SELECT argMax(field_name, ingested_at), uniqExact(well_code), min(period_start), max(period_start)
{visible("production")} AND field_code = {{code:String}}
"""

STATS = f"""
SELECT uniqExact(record_id), uniqExact(well_code), uniqExactIf(field_code, field_code != ''),
       minOrNull(period_start), maxOrNull(period_start), maxOrNull(ingested_at)
{visible("production")}
"""

DEAD_LETTERS_COUNT = f"SELECT uniqExact(id) {visible('dead_letters')}"
EXISTS = f"SELECT count() FROM (SELECT 1 {PRODUCTION} AND {{column}} = {{{{code:String}}}} LIMIT 1)"

DEAD_LETTERS = """
SELECT id, stage, errors, source_topic, source_partition, source_offset, line, failed_at,
       payload, payload_base64, accepted_at_ms, payload_truncated
{dead_letters} AND {where}
ORDER BY failed_at DESC, id DESC
LIMIT 1 BY id
LIMIT {{limit:UInt32}}
"""


def latest(where: str, keys: str = "", values: str = VALUES) -> str:
    return LATEST.format(where=where, keys=keys, values=values)


def scoped(scope: Scope) -> str:
    return f"{SCOPE_COLUMN[scope]} = {{code:String}}"


def per_well_period(scope: Scope) -> str:
    return PER_WELL_PERIOD.format(latest=latest(scoped(scope)))


def series(scope: Scope, granularity: Granularity, *, after: bool) -> str:
    """The series query for a well or a field, optionally after a cursor key."""
    bucket, unit = BUCKETS[granularity]
    return SERIES.format(
        bucket=bucket,
        unit=unit,
        per_well_period=per_well_period(scope),
        after="HAVING (bucket, unit) > ({after:Date32}, {after_unit:String})" if after else "",
    )


def exists(scope: Scope) -> str:
    return EXISTS.format(column=SCOPE_COLUMN[scope])


def summary(scope: Scope) -> str:
    return SUMMARY.format(per_well_period=per_well_period(scope))


def dead_letters(*, ids: bool, stage: bool, code: bool, after: bool) -> str:
    where = every(
        "id IN {ids:Array(String)}" if ids else None,
        "stage = {stage:String}" if stage else None,
        "has(error_codes, {code:String})" if code else None,
        "(failed_at, id) < ({after_at:DateTime64(3, 'UTC')}, {after_id:String})" if after else None,
    )
    return DEAD_LETTERS.format(where=where, dead_letters=visible("dead_letters"))


def every(*conditions: str | None) -> str:
    """The conditions given, joined by AND after a ``1`` (true without any)."""
    return " AND ".join(["1", *(c for c in conditions if c)])


# Analytics (docs/analytics.md). Each reads the records through ``LATEST``.

Stream = Literal["oil", "gas", "water", "boe"]
RankBy = Literal["well", "field", "operator"]


# A series whose rows also carry running totals from the first period held: the
# periods before ``shown_from`` count in the totals and are not listed.
SERIES_CUMULATIVE = """
SELECT bucket, unit, s_dop, s_oil, s_gas, s_water, s_liquids, cum_oil, cum_gas, cum_water
FROM (
    SELECT bucket, unit, s_dop, s_oil, s_gas, s_water, s_liquids, shown,
           sum(all_oil) OVER running AS cum_oil, sum(all_gas) OVER running AS cum_gas,
           sum(all_water) OVER running AS cum_water
    FROM (
        SELECT {bucket} AS bucket, {unit} AS unit, countIf(in_window) AS shown,
               sumIf(dop, in_window) AS s_dop, sumIf(oil, in_window) AS s_oil,
               sumIf(gas, in_window) AS s_gas, sumIf(water, in_window) AS s_water,
               sumIf(liquids, in_window) AS s_liquids,
               sum(oil) AS all_oil, sum(gas) AS all_gas, sum(water) AS all_water
        FROM (SELECT *, period_start >= {{shown_from:Date32}} AS in_window
              FROM ({per_well_period}))
        GROUP BY bucket, unit
    )
    WINDOW running AS (ORDER BY bucket, unit ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
WHERE shown > 0 {after}
ORDER BY bucket, unit
LIMIT {{limit:UInt32}}
"""

# Each well's months from its first with a positive volume of the stream (month 1) to its
# last held, a month without a record as 0; P10 (high) is the 90th percentile.
TYPE_CURVE = """
SELECT month, count(), quantilesExactInclusive(0.9, 0.5, 0.1)(volume), avg(volume)
FROM (
    SELECT month, volumes[indexOf(buckets, addMonths(first, toInt32(month) - 1))] AS volume
    FROM (
        SELECT well_code, groupArray(bucket) AS buckets, groupArray(volume) AS volumes,
               minIf(bucket, volume > 0) AS first, max(bucket) AS last
        FROM (
            SELECT well_code,
                   makeDate32(toYear(period_start), toMonth(period_start), 1) AS bucket,
                   ifNull(sum(v.1), 0) AS volume
            FROM ({latest})
            GROUP BY well_code, bucket
        )
        GROUP BY well_code
        HAVING countIf(volume > 0) > 0
    )
    ARRAY JOIN range(1, toUInt32(least(dateDiff('month', first, last) + 1, {{months:UInt32}})) + 1)
        AS month
)
GROUP BY month
ORDER BY month
"""

RANKING = """
SELECT key, volume, sum(volume) OVER () AS total
FROM (SELECT {key} AS key, sum(v.1) AS volume FROM ({latest}) GROUP BY key)
ORDER BY volume DESC, key
LIMIT {{limit:UInt32}}
"""

RANK_KEYS: Final[dict[RankBy, tuple[str, str]]] = {
    "well": ("well_code", ""),
    "field": ("field_code", ", field_code"),
    "operator": ("ifNull(operator, '')", ", argMax(operator, version) AS operator"),
}


def series_cumulative(scope: Scope, granularity: Granularity, *, after: bool) -> str:
    bucket, unit = BUCKETS[granularity]
    return SERIES_CUMULATIVE.format(
        bucket=bucket,
        unit=unit,
        per_well_period=per_well_period(scope),
        after="AND (bucket, unit) > ({after:Date32}, {after_unit:String})" if after else "",
    )


def selection(*, field: bool, operator: bool, basin: bool, wells: bool) -> str:
    """The records of a selection of wells; each filter a bound parameter."""
    return every(
        "field_code = {field:String}" if field else None,
        "operator = {operator:String}" if operator else None,
        "basin = {basin:String}" if basin else None,
        "well_code IN {wells:Array(String)}" if wells else None,
    )


#: The stored column of each stream's volume: boe as the validator derives it per record
#: (``contracts.derived.boe``).
STREAM_COLUMNS: Final[dict[Stream, str]] = {
    "oil": "oil_bbl",
    "gas": "gas_mcf",
    "water": "water_bbl",
    "boe": "boe",
}


def stream_latest(stream: Stream, where: str, keys: str = "") -> str:
    """The latest version of each record selected with the stream's column only (a type
    curve over 1,000 wells took half the time), as ``v.1``."""
    return latest(where, keys, STREAM_COLUMNS[stream])


def type_curve(stream: Stream, where: str) -> str:
    return TYPE_CURVE.format(latest=stream_latest(stream, where))


def ranking(stream: Stream, by: RankBy) -> str:
    key, keys = RANK_KEYS[by]
    return RANKING.format(key=key, latest=stream_latest(stream, "1", keys))
