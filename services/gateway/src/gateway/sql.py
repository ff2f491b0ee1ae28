"""SQL text of every read. Only fixed fragments are spliced in (whitelisted columns and
bucket expressions); every value is a bound parameter.

Every read of a data table goes through ``visible``: the rows the caller may see (its
organisation's, what other organisations share with it, everything for ``platform``),
with the caller (``Viewer``) as bound parameters. No text here names a data table
elsewhere (``tests/unit/gateway/test_visibility.py`` holds every module to it).

Reads never depend on merges and never use FINAL: each record's current version is
``argMax(..., version)`` per ``record_id``. The arguments go in one tuple because
``argMax`` skips a NULL argument, which would let an older version's value win over a
restatement to "not measured".
"""

from dataclasses import dataclass
from typing import Any, Final, Literal

from gateway.periods import Granularity

Scope = Literal["well", "field"]
Table = Literal["production", "production_history", "dead_letters"]


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who reads: an organisation, or the platform (every organisation)."""

    organisation: str
    platform: bool = False

    def params(self) -> dict[str, Any]:
        """The bound parameters of ``visible``."""
        return {"viewer": self.organisation, "platform": self.platform}

    @property
    def tag(self) -> str:
        """What the caller may see, as cache keys tell callers apart."""
        return "platform" if self.platform else f"org:{self.organisation}"


#: The shares granted to the viewer, as (owner, kind, code, first, last) tuples: one
#: scalar subquery, run once per query.
GRANTED = """(
    SELECT groupArray((owner, kind, code, first_period, last_period)) FROM shares
    WHERE partner = {viewer:String})"""

#: The one rule: a row is visible to the platform, to its owner, and to a partner whose
#: share names its well (or field) and holds its period.
RULES: Final[dict[Table, str]] = {
    "production": f"""{{platform:Bool}} OR organisation = {{viewer:String}} OR arrayExists(
        s -> s.1 = organisation AND if(s.2 = 'well', well_code, field_code) = s.3
             AND period_start BETWEEN s.4 AND s.5,
        {GRANTED})""",
    "dead_letters": "{platform:Bool} OR organisation = {viewer:String}",
}
RULES["production_history"] = RULES["production"]  # every version, as the current one


def visible(table: Table) -> str:
    """``table`` as the caller may see it: what every read selects from."""
    return f"(SELECT * FROM {table} WHERE {RULES[table]})"


SCOPE_COLUMN: Final[dict[Scope, str]] = {"well": "well_code", "field": "field_code"}
BUCKETS: Final[dict[Granularity, tuple[str, str]]] = {
    "day": ("period_start", "period_type"),
    "month": ("makeDate32(toYear(period_start), toMonth(period_start), 1)", "'month'"),
    "year": ("makeDate32(toYear(period_start), 1, 1)", "'year'"),
}

LATEST = """
SELECT well_code, period_start, period_type,
       argMax((days_on_production, oil_bbl, gas_mcf, water_bbl, liquids_bbl), version) AS v
FROM {production}
WHERE {scope} = {{code:String}} AND period_start BETWEEN {{start:Date32}} AND {{end:Date32}}
GROUP BY record_id, well_code, field_code, period_start, period_type
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

WELLS = """
SELECT well_code,
       argMax(well_name, ingested_at), argMax(well_reference, ingested_at),
       arraySort(groupUniqArrayIf(field_code, field_code != '')) AS field_codes,
       argMax(operator, ingested_at), argMax(well_status, ingested_at),
       min(period_start), max(period_start)
FROM {production}
WHERE {where}
GROUP BY well_code
{having}
ORDER BY well_code
LIMIT {{limit:UInt32}}
"""

WELL_SEARCH = (
    "(positionCaseInsensitiveUTF8(well_code, {q:String}) > 0"
    " OR positionCaseInsensitiveUTF8(ifNull(well_name, ''), {q:String}) > 0"
    " OR positionCaseInsensitiveUTF8(ifNull(well_reference, ''), {q:String}) > 0)"
)

FIELD = f"""
SELECT argMax(field_name, ingested_at), uniqExact(well_code), min(period_start), max(period_start)
FROM {visible("production")}
WHERE field_code = {{code:String}}
"""

STATS = f"""
SELECT uniqExact(record_id), uniqExact(well_code), uniqExactIf(field_code, field_code != ''),
       minOrNull(period_start), maxOrNull(period_start), maxOrNull(ingested_at)
FROM {visible("production")}
"""

DEAD_LETTERS_COUNT = f"SELECT uniqExact(id) FROM {visible('dead_letters')}"
EXISTS = "SELECT count() FROM (SELECT 1 FROM {production} WHERE {column} = {{code:String}} LIMIT 1)"

DEAD_LETTERS = """
SELECT id, stage, errors, source_topic, source_partition, source_offset, line, failed_at,
       payload, payload_base64, accepted_at_ms, payload_truncated
FROM {dead_letters}
WHERE {where}
ORDER BY failed_at DESC, id DESC
LIMIT 1 BY id
LIMIT {{limit:UInt32}}
"""


def per_well_period(scope: Scope) -> str:
    latest = LATEST.format(scope=SCOPE_COLUMN[scope], production=visible("production"))
    return PER_WELL_PERIOD.format(latest=latest)


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
    return EXISTS.format(column=SCOPE_COLUMN[scope], production=visible("production"))


def summary(scope: Scope) -> str:
    return SUMMARY.format(per_well_period=per_well_period(scope))


def wells(*, one: bool, after: bool, search: bool, field: bool) -> str:
    where = ["well_code = {code:String}" if one else "1"]
    if after:
        where.append("well_code > {after:String}")
    if search:
        where.append(WELL_SEARCH)
    having = "HAVING has(field_codes, {field:String})" if field else ""
    return WELLS.format(where=" AND ".join(where), having=having, production=visible("production"))


def dead_letters(*, ids: bool, stage: bool, code: bool, after: bool) -> str:
    where = ["1"]
    if ids:
        where.append("id IN {ids:Array(String)}")
    if stage:
        where.append("stage = {stage:String}")
    if code:
        where.append("has(error_codes, {code:String})")
    if after:
        where.append("(failed_at, id) < ({after_at:DateTime64(3, 'UTC')}, {after_id:String})")
    return DEAD_LETTERS.format(where=" AND ".join(where), dead_letters=visible("dead_letters"))


# Shares: what an owner grants (``gateway.shares``); ``GRANTED`` reads them for a reader.
SHARE_COLUMNS: Final = (
    "id", "owner", "partner", "kind", "code", "first_period", "last_period", "created_at",
)  # fmt: skip
SHARES = (
    f"SELECT {', '.join(SHARE_COLUMNS)} FROM shares"
    " WHERE owner = {{owner:String}} {where} ORDER BY created_at, id"
)
SHARE_INSERT = f"""
INSERT INTO shares ({", ".join(SHARE_COLUMNS)})
VALUES ({{id:String}}, {{owner:String}}, {{partner:String}}, {{kind:String}}, {{code:String}},
        {{first_period:Date32}}, {{last_period:Date32}}, {{created_at:DateTime64(3, 'UTC')}})
"""
SHARE_DELETE = "DELETE FROM shares WHERE owner = {owner:String} AND id = {id:String}"


def shares(*, one: bool) -> str:
    """An owner's shares, or the one of ``id``."""
    return SHARES.format(where="AND id = {id:String}" if one else "")


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _name(text: str) -> str:
    return "`" + text.replace("\\", "\\\\").replace("`", "\\`") + "`"


def row_policies(organisation: str | None, role: str) -> list[str]:
    """The ``RULES`` as ClickHouse row policies of ``role`` (a role or user a server
    gives an organisation's direct readers), one per data table: the same rule with the
    reader written in; ``organisation`` None renders the platform's (every row)."""
    reader = "platform" if organisation is None else f"org_{organisation}"
    bound = {"{platform:Bool}": "false", "{viewer:String}": _literal(organisation or "")}
    statements = []
    for table, rule in RULES.items():
        using = "true" if organisation is None else rule
        for parameter, value in bound.items():
            using = using.replace(parameter, value)
        name = _name(f"wellstream_{reader}_{table}")
        statements.append(
            f"CREATE ROW POLICY IF NOT EXISTS {name} ON {table} FOR SELECT USING {using}"
            f" AS permissive TO {_name(role)}"
        )
    return statements
