"""Who sees which records: the one rule every read of a data table goes through.

A reader (``Viewer``) sees its organisation's records, the records other organisations
share with it (a well or a field, over a period range, ``gateway.shares``), or, with the
``platform`` scope, every record. ``visible`` is how every read of ``production``,
``production_history`` and ``dead_letters`` starts (``gateway.sql``, ``gateway.export``):
``{platform} OR organisation = {viewer} OR`` the reader's shares, each checked against
the row's owner, well or field and period (``SHARED``). Every parameter is bound
(``narrowed``). ``row_policies`` renders the same rule for a ClickHouse server to
enforce on direct readers. No other text of the gateway names a data table
(``tests/unit/gateway/test_visibility.py``).

``narrowed`` writes the rule for one reader before the query runs, and binds its
parameters: the same rows, at the engine's least cost. Each condition costs the engine
a fraction of a millisecond a query to plan and run, whatever the rows it keeps
(measured: docs/benchmarks.md), so the platform's read keeps no condition, a reader
without shares one comparison, and a partner's shares become one ``multiIf`` branch an
owner: its wells and fields looked up in sets of codes, over each period range
(``_branches``). A read pinned to one well or field by its first condition knows which of
those lookups hold, and leaves them out. Shares of owners past ``TERMS`` ranges are
checked one by one (``SHARED``).
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any, Final, Literal

Table = Literal["production", "production_history", "dead_letters"]
#: The Date32 range: a share without ``from`` (``to``) starts (ends) there.
FIRST: Final = date(1900, 1, 1)
LAST: Final = date(2299, 12, 31)
#: How many period ranges of a reader's shares are written out (``_branches``); the shares
#: of owners beyond are checked one by one (``SHARED``).
TERMS: Final = 8

Grant = tuple[str, str, str, date, date]
"""(owner, kind ``well``/``field``, code, first period, last period) of a share."""

SHARES_TYPE: Final = "Array(Tuple(String, String, String, Date32, Date32))"
#: Every share of ``{shares}``, checked against each row: the rule for any reader.
SHARED: Final = (
    "arrayExists(s -> s.1 = organisation AND if(s.2 = 'well', well_code, field_code) = s.3"
    f" AND period_start BETWEEN s.4 AND s.5, {{shares:{SHARES_TYPE}}})"
)
PLATFORM: Final = "{platform:Bool}"
OWN: Final = "organisation = {viewer:String}"
RULES: Final[dict[Table, str]] = {
    "production": f"{PLATFORM} OR {OWN} OR {SHARED}",
    "production_history": f"{PLATFORM} OR {OWN} OR {SHARED}",  # every version, as current
    "dead_letters": f"{PLATFORM} OR {OWN}",  # a dead letter is not shared
}


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


def visible(table: Table) -> str:
    """``FROM table WHERE (rule)``: how every read of ``table`` starts; the read's own
    conditions follow, joined by AND."""
    return f"FROM {table} WHERE ({RULES[table]})"


#: A read's own first condition pinning the rows to one well or one field.
_PINNED: Final = re.compile(r" AND (?:1 AND )?(well|field)_code = \{(\w+):String\}")
Pin = tuple[str, str] | None
"""(kind, code) of the well or field a read is pinned to, or None."""


def narrowed(
    query: str, viewer: Viewer, params: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any]]:
    """``query`` and its parameters (``params`` and the rule's) with the rule written for
    ``viewer``: the platform's read keeps ``{platform}`` (true) alone, another its
    organisation's comparison and its shares' branches (``_branches``), those a read
    pinned to one well or field by its first condition cannot need left out. The same
    rows as the rule selects, at less cost. Only the parameters the written query uses
    are bound: an unused one costs the engine too."""
    bound = dict(params or {})
    bound |= {"platform": True} if viewer.platform else {"viewer": viewer.organisation}
    pieces = []
    rest = query
    while found := _next_rule(rest):
        at, rule = found
        after = at + len(f"WHERE ({rule})")
        pinned = _PINNED.match(rest, after)
        pin = (pinned[1], bound[pinned[2]]) if pinned and pinned[2] in bound else None
        if viewer.platform:
            mine = PLATFORM
        elif SHARED in rule and viewer.grants:
            mine, used = _branches(viewer, pin)
            bound |= used
        else:
            mine = OWN
        pieces += [rest[:at], f"WHERE ({mine})"]
        rest = rest[after:]
    written = "".join(pieces) + rest
    return written, {key: value for key, value in bound.items() if f"{{{key}:" in written}


def _next_rule(query: str) -> tuple[int, str] | None:
    """Where the first rule in ``query`` starts, and which it is."""
    found = [(query.find(f"WHERE ({rule})"), rule) for rule in set(RULES.values())]
    return min(((at, rule) for at, rule in found if at >= 0), default=None)


Spans = dict[tuple[date, date], dict[str, list[str]]]
"""An owner's shares to a reader: per period range, the codes of each kind."""


@lru_cache(maxsize=4096)  # a reader's shares change rarely; it reads many wells
def _branches(viewer: Viewer, pin: Pin) -> tuple[str, dict[str, Any]]:
    """The rule for ``viewer``'s shares and their parameters: one branch an owner of what
    it shares (``_check``), ``multiIf(organisation = {owner}, check, ...)``, its last the
    organisations whose every record the read may see (the reader's, and owners' whose
    shares hold every row a pinned read can reach); the shares of owners past ``TERMS``
    ranges left to ``SHARED`` (``{shares}``). One function of branches costs the engine
    less than the same conditions joined by OR and AND (docs/benchmarks.md)."""
    owners: dict[str, Spans] = defaultdict(dict)
    for owner, kind, code, first, last in sorted(set(viewer.grants)):
        if owner != viewer.organisation:  # a reader's own records are its already
            owners[owner].setdefault((first, last), {"well": [], "field": []})[kind].append(code)
    prefix = "o" if pin is None else f"o{pin[0][0]}"
    whole = ["{viewer:String}"]
    branches: list[str] = []
    params: dict[str, Any] = {}
    rest: list[Grant] = []
    spent = 0
    for n, (owner, spans) in enumerate(owners.items()):
        spent += len(spans)
        if spent > TERMS:
            rest += [g for g in viewer.grants if g[0] == owner]
            continue
        name = f"{prefix}{n}"
        check = _check(name, spans, pin, params)
        if check == "1":
            whole.append(f"{{{name}:String}}")
        elif check:
            branches.append(f"organisation = {{{name}:String}}, {check}")
        if check:
            params[name] = owner
    seen = OWN if len(whole) == 1 else f"organisation IN ({', '.join(whole)})"
    if rest:
        seen = f"{seen} OR {SHARED}"
        params["shares"] = sorted(set(rest))
    return (f"multiIf({', '.join(branches)}, {seen})" if branches else seen), params


def _check(name: str, spans: Spans, pin: Pin, params: dict[str, Any]) -> str:
    """Which of an owner's rows a reader sees: its wells and fields shared whole, looked
    up in sets of codes, or shared over a range, looked up and held to it; their
    parameters added to ``params``. Pinned to a well or field, its lookup is known here:
    true, or left out. "1" when every row the read can reach is shared, "" when none."""
    alternatives: list[str] = []
    for m, ((first, last), codes) in enumerate(spans.items()):
        if pin is not None and pin[1] in codes[pin[0]]:
            looked = ["1"]
        else:
            looked = [
                f"{kind}_code IN {{{name}_{m}_{kind}s:Array(String)}}"
                for kind, held in codes.items()
                if held and (pin is None or pin[0] != kind)
            ]
            params |= {f"{name}_{m}_{kind}s": codes[kind] for kind in ("well", "field")}
        if not looked:
            continue
        if (first, last) == (FIRST, LAST):
            if looked == ["1"]:  # the owner's every record of the pinned well or field
                return "1"
            alternatives.append(_either(looked))
            continue
        held = [] if looked == ["1"] else [_either(looked)]
        alternatives.append(" AND ".join([*held, _within(f"{name}_{m}", first, last, params)]))
    return " OR ".join(alternatives)


def _within(name: str, first: date, last: date, params: dict[str, Any]) -> str:
    """``period_start`` held to a share's range: a bound of ``FIRST`` or ``LAST`` is no
    bound (a share from a month on is one comparison); their parameters into ``params``."""
    if first != FIRST and last != LAST:
        params |= {f"{name}_first": first, f"{name}_last": last}
        return f"period_start BETWEEN {{{name}_first:Date32}} AND {{{name}_last:Date32}}"
    if first != FIRST:
        params[f"{name}_first"] = first
        return f"period_start >= {{{name}_first:Date32}}"
    params[f"{name}_last"] = last
    return f"period_start <= {{{name}_last:Date32}}"


def _either(conditions: list[str]) -> str:
    return conditions[0] if len(conditions) == 1 else f"({' OR '.join(conditions)})"


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


def row_policies(organisation: str | None, role: str) -> list[str]:
    """``RULES`` as ClickHouse row policies of ``role`` (the role or user a server gives an
    organisation's direct readers), one per data table; ``organisation`` None renders the
    platform's (every row). A server has no gateway to bind the reader's shares: the
    policy reads them from the shares table, each checked against the row (``SHARED``)."""
    reader = "platform" if organisation is None else f"org_{organisation}"
    statements = []
    for table, rule in RULES.items():
        using = "true"
        if organisation is not None:
            literal = _literal(organisation)
            using = (
                rule.replace(f"{PLATFORM} OR ", "")
                .replace("{viewer:String}", literal)
                .replace(
                    f"{{shares:{SHARES_TYPE}}}",
                    "(SELECT groupArray((owner, kind, code, first_period, last_period))"
                    f" FROM shares WHERE partner = {literal})",
                )
            )
        name = _name(f"wellstream_{reader}_{table}")
        statements.append(
            f"CREATE ROW POLICY IF NOT EXISTS {name} ON {table} FOR SELECT USING {using}"
            f" AS permissive TO {_name(role)}"
        )
    return statements
