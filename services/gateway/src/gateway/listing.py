"""The wells list and a well's detail (``GET /api/v1/wells``, ``/wells/{code}``): their
SQL, and the orders the list may take. Every value is a bound parameter."""

from typing import Final, Literal

from gateway.sql import every
from gateway.visibility import visible

WELLS = """
SELECT well_code,
       argMax(well_name, ingested_at) AS name, argMax(well_reference, ingested_at),
       arraySort(groupUniqArrayIf(field_code, field_code != '')) AS field_codes,
       argMax(operator, ingested_at) AS op, argMax(well_status, ingested_at) AS status,
       min(period_start) AS first, max(period_start) AS last
{production} AND {where}
GROUP BY well_code
HAVING {having}
ORDER BY {order}
LIMIT {{limit:UInt32}}
"""

WellSort = Literal[
    "well_code", "well_name", "operator", "well_status", "first_period", "last_period"
]
#: What a wells list may be ordered by: the key in ``WELLS`` (a well without a value
#: sorts as "") and its type, then the well code; a page ends on both (``wells``).
WELL_SORTS: Final[dict[WellSort, tuple[str, str]]] = {
    "well_code": ("well_code", "String"),
    "well_name": ("ifNull(name, '')", "String"),
    "operator": ("ifNull(op, '')", "String"),
    "well_status": ("ifNull(status, '')", "String"),
    "first_period": ("first", "Date32"),
    "last_period": ("last", "Date32"),
}

WELL_SEARCH = (
    "(positionCaseInsensitiveUTF8(well_code, {q:String}) > 0"
    " OR positionCaseInsensitiveUTF8(ifNull(well_name, ''), {q:String}) > 0"
    " OR positionCaseInsensitiveUTF8(ifNull(well_reference, ''), {q:String}) > 0)"
)


def wells(
    *,
    one: bool,
    after: bool,
    filters: frozenset[str] = frozenset(),
    sort: WellSort = "well_code",
    descending: bool = False,
) -> str:
    """A page of wells ordered by ``sort``, then code; ``after``: past the key
    ``({after_key}, {after})`` (the code alone when ordered by code, before grouping)."""
    key, kind = WELL_SORTS[sort]
    beyond = "<" if descending else ">"
    where = every(
        "well_code = {code:String}" if one else None,
        f"well_code {beyond} {{after:String}}" if after and sort == "well_code" else None,
        WELL_SEARCH if "q" in filters else None,
        *(f"{c} = {{{c}:String}}" for c in ("operator", "basin") if c in filters),
    )
    having = every(
        "has(field_codes, {field:String})" if "field" in filters else None,
        f"({key}, well_code) {beyond} ({{after_key:{kind}}}, {{after:String}})"
        if after and sort != "well_code"
        else None,
    )
    direction = " DESC" if descending else ""
    order = ", ".join(f"{k}{direction}" for k in dict.fromkeys([key, "well_code"]))
    return WELLS.format(where=where, having=having, order=order, production=visible("production"))
