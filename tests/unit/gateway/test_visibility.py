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
from pathlib import Path
from typing import Any

import pytest

import gateway
from gateway import export, panelreads, sql, visibility
from gateway.visibility import Viewer, narrowed, visible

#: A read of a data table: the tables the writer fills.
READ = re.compile(r"\b(?:FROM|JOIN)\s+(production|production_history|dead_letters)\b", re.I)
DATA_TABLE = re.compile(r"\b(production|production_history|dead_letters)\b")
MODULES = (sql, export, panelreads)


def _values(parameter: inspect.Parameter) -> list[Any]:
    kind = parameter.annotation
    if kind is str and parameter.name == "stream":  # a column chosen by name
        return list(panelreads.STREAMS)
    if kind is str:  # a fragment the caller splices in: its default, or a condition
        return ["1" if parameter.default is inspect.Parameter.empty else parameter.default]
    if kind is bool:
        return [False, True]
    if kind == frozenset[str]:  # the filters a read applies (``sql.wells``): none, all
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
    assert Viewer("acme").params()["viewer"] == "acme"
    assert Viewer("acme", platform=True).tag != Viewer("acme").tag
    assert Viewer("a").tag != Viewer("b").tag


def test_a_reader_without_shares_is_held_to_its_organisation_alone() -> None:
    query = sql.series("well", "month", after=False)
    alone = narrowed(query, Viewer("acme"))
    assert "FROM production WHERE ({platform:Bool} OR organisation = {viewer:String}) AND" in alone
    assert "shares" not in alone
    assert "arrayExists" not in alone
    whole = ("acme", "well", "W1", visibility.FIRST, visibility.LAST)
    ranged = ("acme", "field", "F1", visibility.FIRST, visibility.LAST.replace(year=2020))
    assert "arrayExists" not in narrowed(query, Viewer("b", grants=(whole,)))
    assert "shared_wells" in narrowed(query, Viewer("b", grants=(whole,)))
    assert narrowed(query, Viewer("b", grants=(whole, ranged))) == query
    assert "shared_wells" not in narrowed(query, Viewer("b", platform=True, grants=(whole,)))
