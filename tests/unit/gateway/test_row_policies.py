"""The row policies a ClickHouse server can enforce (docs/organisations.md): the rule of
``gateway.visibility.RULES`` with the reader written in, in statements the engine parses."""

import json
import re
import subprocess
import sys
from pathlib import Path

from gateway import visibility

DOC = Path(__file__).resolve().parents[3] / "docs" / "organisations.md"

_PARSE = r"""
import json, sys, chdb
connection = chdb.connect(":memory:")
cursor = connection.cursor()
for statement in json.load(sys.stdin):
    quoted = "'" + statement.replace("\\", "\\\\").replace("'", "\\'") + "'"
    cursor.execute(f"SELECT formatQuery({quoted})")
    print(json.dumps(cursor.fetchall()[0][0]))
"""


def parsed(statements: list[str]) -> list[str]:
    """Each statement as the engine formats it (it refuses what it cannot parse)."""
    done = subprocess.run(
        [sys.executable, "-c", _PARSE],
        input=json.dumps(statements),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_the_engine_parses_every_policy() -> None:
    statements = [
        *visibility.row_policies("o'brien`s", "readers"),
        *visibility.row_policies(None, "ops"),
    ]
    formatted = parsed(statements)
    assert len(formatted) == len(statements) == 6
    for text in formatted:
        assert text.startswith("CREATE ROW POLICY IF NOT EXISTS ")
        assert re.search(r" ON (production|production_history|dead_letters) ", text), text
    # the reader is one literal, quotes and all; no parameter is left for a server to fill
    assert all("{" not in s for s in statements)
    assert sum("partner = 'o\\'brien`s'" in s for s in statements) == 2


def test_each_table_gets_the_gateways_rule_with_the_reader_written_in() -> None:
    policies = dict(zip(visibility.RULES, visibility.row_policies("acme", "r"), strict=True))
    for table, statement in policies.items():
        assert f" ON {table} FOR SELECT USING organisation = 'acme'" in statement
    for table in ("production", "production_history"):
        assert "FROM shares WHERE partner = 'acme'" in policies[table]
        assert "arrayExists(" in policies[table]
    assert "shares" not in policies["dead_letters"]


def test_the_documented_policies_are_the_rendered_ones() -> None:
    text = DOC.read_text(encoding="utf-8")
    for statement in [
        *visibility.row_policies("acme", "acme_readers"),
        *visibility.row_policies(None, "ops"),
    ]:
        assert statement + ";" in text
