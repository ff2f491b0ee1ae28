"""Every read of a data table goes through the one visibility filter (``visibility.visible``).

Two checks that cannot both be dodged: every SQL text the gateway can build (each query
builder of ``gateway.sql`` and ``gateway.export`` called with every combination of its
arguments, and every SQL constant) reads ``production`` and ``dead_letters`` only through
``visible``; and no module of the gateway names a data table in any other text.
"""

import inspect
import itertools
import re
import types
import typing
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import gateway
from gateway import export, listing, panelreads, sql, visibility
from gateway.visibility import Viewer, narrowed, visible

#: A read of a data table: the tables the writer fills.
READ = re.compile(r"\b(?:FROM|JOIN)\s+(production|production_history|dead_letters)\b", re.I)
DATA_TABLE = re.compile(r"\b(production|production_history|dead_letters)\b")
MODULES = (sql, listing, export, panelreads)


def _values(parameter: inspect.Parameter) -> list[Any]:
    kind = parameter.annotation
    if parameter.kind is parameter.VAR_POSITIONAL:  # conditions to join (``sql.every``)
        return [None]  # called without: what it adds is its callers' (enumerated here too)
    if kind is str and parameter.name == "stream":  # a column chosen by name
        return list(panelreads.STREAMS)
    if kind is str:  # a fragment the caller splices in: its default, or a condition
        return ["1" if parameter.default is inspect.Parameter.empty else parameter.default]
    if kind is bool:
        return [False, True]
    if kind == frozenset[str]:  # the filters a read applies (``listing.wells``): none, all
        return [frozenset(), frozenset({"q", "field", "operator", "basin"})]
    origin = typing.get_origin(kind)
    if origin is typing.Literal:
        return list(typing.get_args(kind))
    raise AssertionError(f"cannot enumerate {parameter} of a query builder")


def _builders(module: types.ModuleType) -> Iterator[tuple[str, Callable[..., str]]]:
    for name, value in vars(module).items():
        if inspect.isfunction(value) and value.__module__ == module.__name__:
            hints = typing.get_type_hints(value)
            if hints.get("return") is str and name != "visible":
                yield name, value


def rendered() -> Iterator[tuple[str, str]]:
    """(where, SQL text) of every text the gateway's reads can run."""
    for module in MODULES:
        for name, build in _builders(module):
            signature = inspect.signature(build)
            hints = typing.get_type_hints(build)
            parameters = [
                p.replace(annotation=hints[p.name]) for p in signature.parameters.values()
            ]
            for combination in itertools.product(*map(_values, parameters)):
                arguments = dict(zip((p.name for p in parameters), combination, strict=True))
                positional = [
                    v
                    for p, v in zip(parameters, combination, strict=True)
                    if p.kind is p.POSITIONAL_OR_KEYWORD
                ]
                keywords = {
                    p.name: arguments[p.name] for p in parameters if p.kind is p.KEYWORD_ONLY
                }
                yield f"{module.__name__}.{name}{combination}", build(*positional, **keywords)
        for name, value in vars(module).items():
            if name.isupper() and isinstance(value, str):
                yield f"{module.__name__}.{name}", value


TEXTS = list(rendered())


def test_the_enumeration_reaches_every_query() -> None:
    names = {where.split("(")[0] for where, _ in TEXTS}
    for expected in ("series", "summary", "exists", "wells", "dead_letters", "export_sql"):
        assert any(name.endswith(f".{expected}") for name in names), expected
    assert sum(1 for _, text in TEXTS if READ.search(text)) >= 40


@pytest.mark.parametrize(("where", "text"), TEXTS, ids=[where for where, _ in TEXTS])
def test_every_read_of_a_data_table_is_through_the_filter(where: str, text: str) -> None:
    rest = text
    for table in visibility.RULES:
        escaped = visible(table).replace("{", "{{").replace("}", "}}")  # a template's
        rest = rest.replace(visible(table), "").replace(escaped, "")
    assert READ.search(rest) is None, f"{where} reads a data table without visibility.visible"


def test_no_gateway_module_names_a_data_table_elsewhere() -> None:
    """A module that wrote its own ``FROM production`` would escape the check above."""
    found = []
    for path in sorted(Path(gateway.__file__).parent.glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if READ.search(line):
                found.append(f"{path.name}:{number}: {line.strip()}")
    assert found == []


def test_the_filter_binds_the_caller_and_names_the_table_once() -> None:
    for table in visibility.RULES:
        text = visible(table)
        assert DATA_TABLE.findall(text) == [table]
        assert "{viewer:String}" in text
        assert "{platform:Bool}" in text
    assert narrowed(visible("production"), Viewer("acme"))[1]["viewer"] == "acme"
    assert Viewer("acme", platform=True).tag != Viewer("acme").tag
    assert Viewer("a").tag != Viewer("b").tag


def test_a_reader_without_shares_is_held_to_its_organisation_alone() -> None:
    query = sql.series("well", "month", after=False)
    alone, params = narrowed(query, Viewer("acme"), {"code": "W1"})
    assert "FROM production WHERE (organisation = {viewer:String}) AND" in alone
    assert params == {"code": "W1", "viewer": "acme"}
    everyone, _ = narrowed(query, Viewer("acme", platform=True))
    assert "FROM production WHERE ({platform:Bool}) AND" in everyone


SINCE = date(2000, 1, 1)
PARTNER_GRANTS = (
    ("acme", "well", "W1", visibility.FIRST, visibility.LAST),
    ("acme", "field", "F1", visibility.FIRST, visibility.LAST),
    ("acme", "well", "W2", SINCE, visibility.LAST),
    ("beta", "well", "W1", visibility.FIRST, SINCE),
)


def _rule(query: str, tail: str) -> str:
    """The rule of ``query``, whose own conditions are ``tail``."""
    return query.split("WHERE (", 1)[1].removesuffix(f") AND {tail}")


def test_a_partners_shares_are_branches_of_their_owner_and_range() -> None:
    tail = "period_start > {start:Date32}"
    query = f"SELECT 1 {visible('production')} AND {tail}"
    written, params = narrowed(query, Viewer("p", grants=PARTNER_GRANTS))
    assert _rule(written, tail) == (
        "multiIf(organisation = {o0:String}, (well_code IN {o0_0_wells:Array(String)}"
        " OR field_code IN {o0_0_fields:Array(String)}) OR well_code IN"
        " {o0_1_wells:Array(String)} AND period_start >= {o0_1_first:Date32},"
        " organisation = {o1:String}, well_code IN {o1_0_wells:Array(String)}"
        " AND period_start <= {o1_0_last:Date32}, organisation = {viewer:String})"
    )
    assert params == {
        "viewer": "p",
        "o0": "acme", "o0_0_wells": ["W1"], "o0_0_fields": ["F1"],
        "o0_1_wells": ["W2"], "o0_1_first": SINCE,
        "o1": "beta", "o1_0_wells": ["W1"], "o1_0_last": SINCE,
    }  # fmt: skip
    # the dead letters of another are never shared
    letters, _ = narrowed(visible("dead_letters"), Viewer("p", grants=PARTNER_GRANTS))
    assert letters.endswith("WHERE (organisation = {viewer:String})")


def test_a_read_pinned_to_a_well_or_field_keeps_only_the_lookups_it_needs() -> None:
    partner = Viewer("p", grants=PARTNER_GRANTS)
    well = "well_code = {code:String}"
    field = "1 AND field_code = {field:String}"
    cases = {
        # shared whole by acme: acme's every record of it; beta's up to 2000
        (well, "W1"): (
            "multiIf(organisation = {ow1:String}, period_start <= {ow1_0_last:Date32},"
            " organisation IN ({viewer:String}, {ow0:String}))"
        ),
        # shared from 2000 by acme, or through a field acme shares whole
        (well, "W2"): (
            "multiIf(organisation = {ow0:String}, field_code IN"
            " {ow0_0_fields:Array(String)} OR period_start >= {ow0_1_first:Date32},"
            " organisation = {viewer:String})"
        ),
        (well, "W9"): (
            "multiIf(organisation = {ow0:String}, field_code IN"
            " {ow0_0_fields:Array(String)}, organisation = {viewer:String})"
        ),
        # shared whole by acme; beta's W1 up to 2000 may be one of its wells
        (field, "F1"): (
            "multiIf(organisation = {of1:String}, well_code IN {of1_0_wells:Array(String)}"
            " AND period_start <= {of1_0_last:Date32},"
            " organisation IN ({viewer:String}, {of0:String}))"
        ),
    }
    for (tail, code), rule in cases.items():
        query = f"SELECT 1 {visible('production')} AND {tail}"
        written, params = narrowed(query, partner, {"code": code, "field": code})
        assert _rule(written, tail) == rule, code
        assert all(f"{{{name}:" in written for name in params if name not in ("code", "field"))


def test_shares_past_the_written_terms_are_checked_one_by_one() -> None:
    ranges = [(date(2000 + n, 1, 1), visibility.LAST) for n in range(visibility.TERMS + 1)]
    grants = tuple(("acme", "well", f"W{n}", *span) for n, span in enumerate(ranges[:-1]))
    grants += (("beta", "field", "F1", *ranges[-1]),)
    query, params = narrowed(visible("production"), Viewer("p", grants=grants))
    assert query.count("organisation = {o") == 1  # acme's branch; beta's past TERMS
    assert query.endswith(f", organisation = {{viewer:String}} OR {visibility.SHARED}))")
    assert params["shares"] == [grants[-1]]


def test_a_range_is_held_by_the_bounds_it_has() -> None:
    until = date(2010, 12, 31)
    cases = {
        (SINCE, visibility.LAST): "period_start >= {o0_0_first:Date32}",
        (visibility.FIRST, until): "period_start <= {o0_0_last:Date32}",
        (SINCE, until): "period_start BETWEEN {o0_0_first:Date32} AND {o0_0_last:Date32}",
    }
    for span, held in cases.items():
        partner = Viewer("p", grants=(("acme", "field", "F1", *span),))
        written, params = narrowed(visible("production"), partner)
        assert written.endswith(
            f"field_code IN {{o0_0_fields:Array(String)}} AND {held},"
            " organisation = {viewer:String}))"
        )
        assert {k for k in params if k.endswith(("_first", "_last"))} == set(
            re.findall(r"\{(o0_0_\w+):Date32\}", held)
        )


def test_a_share_of_the_readers_own_records_changes_nothing() -> None:
    # refused by the API; a row written to the table directly cannot hide the reader's own
    grants = (("p", "well", "W1", SINCE, visibility.LAST), ("acme", "well", "W1", SINCE, SINCE))
    written, params = narrowed(visible("production"), Viewer("p", grants=grants))
    assert written.endswith(
        "WHERE (multiIf(organisation = {o0:String}, well_code IN {o0_0_wells:Array(String)}"
        " AND period_start BETWEEN {o0_0_first:Date32} AND {o0_0_last:Date32},"
        " organisation = {viewer:String}))"
    )
    assert params["o0"] == "acme"
