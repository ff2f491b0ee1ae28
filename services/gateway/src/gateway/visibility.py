"""Who sees which records: the one rule every read of a data table goes through.

A reader (``Viewer``) sees its organisation's records, the records other organisations
share with it (a well or a field, over a period range, ``gateway.shares``), or, with the
``platform`` scope, every record. ``visible`` is how every read of ``production``,
``production_history`` and ``dead_letters`` starts (``gateway.sql``, ``gateway.export``);
the reader's organisation and shares are bound parameters (``Viewer.params``), and
``narrowed`` leaves out the parts of the rule that select nothing for this reader (a
reader without shares pays for one comparison a row). ``row_policies`` renders the same
rule for a ClickHouse server to enforce on direct readers. No other text of the gateway
names a data table (``tests/unit/gateway/test_visibility.py``).
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, Literal

Table = Literal["production", "production_history", "dead_letters"]
#: The Date32 range: a share without ``from`` (``to``) starts (ends) there.
FIRST: Final = date(1900, 1, 1)
LAST: Final = date(2299, 12, 31)

Grant = tuple[str, str, str, date, date]
"""(owner, kind ``well``/``field``, code, first period, last period) of a share."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who reads: an organisation and the shares granted to it, or the platform."""

    organisation: str
    platform: bool = False
    grants: tuple[Grant, ...] = field(default=())

    @property
    def tag(self) -> str:
        """What the reader may see, as cache keys tell readers apart (shares aside: their
        generation is part of an entry's stamp, ``gateway.cache``)."""
        return "platform" if self.platform else f"org:{self.organisation}"

    def params(self) -> dict[str, Any]:
        """The bound parameters of the rule."""
        whole = [g for g in self.grants if g[3:] == (FIRST, LAST)]
        ranged = [g for g in self.grants if g[3:] != (FIRST, LAST)]
        return {
            "viewer": self.organisation,
            "platform": self.platform,
            "shared_wells": [(g[0], g[2]) for g in whole if g[1] == "well"],
            "shared_fields": [(g[0], g[2]) for g in whole if g[1] == "field"],
            "ranged_wells": [(g[0], g[2]) for g in ranged if g[1] == "well"],
            "ranged_fields": [(g[0], g[2]) for g in ranged if g[1] == "field"],
            "ranged": ranged,
        }


PAIRS: Final = "Array(Tuple(String, String))"
OWN: Final = "{platform:Bool} OR organisation = {viewer:String}"
#: Shares of whole wells or fields: set lookups.
SHARED: Final = (
    f"(organisation, well_code) IN {{shared_wells:{PAIRS}}}"
    f" OR (organisation, field_code) IN {{shared_fields:{PAIRS}}}"
)
#: Shares over a period range: the candidates by set lookups, then their periods.
RANGED: Final = (
    f"((organisation, well_code) IN {{ranged_wells:{PAIRS}}}"
    f" OR (organisation, field_code) IN {{ranged_fields:{PAIRS}}})"
    " AND arrayExists(s -> s.1 = organisation AND if(s.2 = 'well', well_code, field_code) = s.3"
    " AND period_start BETWEEN s.4 AND s.5,"
    " {ranged:Array(Tuple(String, String, String, Date32, Date32))})"
)
_RECORDS: Final = f"{OWN} OR {SHARED} OR {RANGED}"
RULES: Final[dict[Table, str]] = {
    "production": _RECORDS,
    "production_history": _RECORDS,  # every version, as the current one
    "dead_letters": OWN,  # a dead letter is not shared
}


def visible(table: Table) -> str:
    """``FROM table WHERE (rule)``: how every read of ``table`` starts; the read's own
    conditions follow, joined by AND."""
    return f"FROM {table} WHERE ({RULES[table]})"


def narrowed(query: str, viewer: Viewer) -> str:
    """``query`` with the parts of the rule that select nothing for ``viewer`` left out
    (no shares of a kind): the same rows, without their cost."""
    params = viewer.params()
    if viewer.platform or not (params["shared_wells"] or params["shared_fields"]):
        query = query.replace(f" OR {SHARED}", "")
    if viewer.platform or not params["ranged"]:
        query = query.replace(f" OR {RANGED}", "")
    return query


# The shares table (``gateway.shares``); ``GRANTS`` reads a reader's.
SHARE_COLUMNS: Final = (
    "id", "owner", "partner", "kind", "code", "first_period", "last_period", "created_at",
)  # fmt: skip
GRANTS: Final = (
    "SELECT owner, kind, code, first_period, last_period FROM shares"
    " WHERE partner = {viewer:String} ORDER BY owner, kind, code, first_period"
)
SHARES: Final = (
    f"SELECT {', '.join(SHARE_COLUMNS)} FROM shares"
    " WHERE owner = {{owner:String}} {where} ORDER BY created_at, id"
)
SHARE_INSERT: Final = (
    f"INSERT INTO shares ({', '.join(SHARE_COLUMNS)}) VALUES ({{id:String}}, {{owner:String}},"
    " {partner:String}, {kind:String}, {code:String}, {first_period:Date32},"
    " {last_period:Date32}, {created_at:DateTime64(3, 'UTC')})"
)
SHARE_DELETE: Final = "DELETE FROM shares WHERE owner = {owner:String} AND id = {id:String}"


def shares(*, one: bool) -> str:
    """An owner's shares, or the one of ``id``."""
    return SHARES.format(where="AND id = {id:String}" if one else "")


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _name(text: str) -> str:
    return "`" + text.replace("\\", "\\\\").replace("`", "\\`") + "`"


def _policy_parameters(organisation: str) -> dict[str, str]:
    """The rule's parameters for a server's row policy: the reader written in, its shares
    read from the shares table by subqueries (a server has no gateway to bind them)."""
    reader = _literal(organisation)
    whole = f"first_period = '{FIRST}' AND last_period = '{LAST}'"
    pairs = "(SELECT owner, code FROM shares WHERE partner = {p} AND kind = '{k}'{w})"
    return {
        "{platform:Bool}": "false",
        "{viewer:String}": reader,
        f"{{shared_wells:{PAIRS}}}": pairs.format(p=reader, k="well", w=f" AND {whole}"),
        f"{{shared_fields:{PAIRS}}}": pairs.format(p=reader, k="field", w=f" AND {whole}"),
        f"{{ranged_wells:{PAIRS}}}": pairs.format(p=reader, k="well", w=""),
        f"{{ranged_fields:{PAIRS}}}": pairs.format(p=reader, k="field", w=""),
        "{ranged:Array(Tuple(String, String, String, Date32, Date32))}": (
            "(SELECT groupArray((owner, kind, code, first_period, last_period)) FROM shares"
            f" WHERE partner = {reader})"
        ),
    }


def row_policies(organisation: str | None, role: str) -> list[str]:
    """``RULES`` as ClickHouse row policies of ``role`` (the role or user a server gives an
    organisation's direct readers), one per data table; ``organisation`` None renders the
    platform's (every row)."""
    reader = "platform" if organisation is None else f"org_{organisation}"
    statements = []
    for table, rule in RULES.items():
        using = "true"
        if organisation is not None:
            using = rule
            for parameter, value in _policy_parameters(organisation).items():
                using = using.replace(parameter, value)
        name = _name(f"wellstream_{reader}_{table}")
        statements.append(
            f"CREATE ROW POLICY IF NOT EXISTS {name} ON {table} FOR SELECT USING {using}"
            f" AS permissive TO {_name(role)}"
        )
    return statements
