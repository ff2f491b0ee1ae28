"""The migrations rendered for a replicated cluster (``WELLSTREAM_CLICKHOUSE_CLUSTER``).

No Keeper runs here, so nothing is applied to a cluster: every statement of every
migration is rendered and checked, and parsed by the embedded engine's own parser
(``formatQuery``, in a subprocess: a test process holds one chDB engine at most).
"""

import json
import re
import subprocess
import sys

import pytest

from writer import schema

CLUSTER = "wells"
ON = f"ON CLUSTER `{CLUSTER}`"
PATH = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"
DEDUP = "replicated_deduplication_window = 10000, replicated_deduplication_window_seconds = 604800"


def _single_node() -> list[str]:
    return [schema._TRACKING] + [s for m in schema.available() for s in m.statements()]


def _cluster() -> list[str]:
    return schema.rendered(_single_node(), CLUSTER)


def test_every_statement_runs_on_the_cluster() -> None:
    statements = _cluster()
    assert len(statements) == 18, (
        "the tracking table, 4 statements of 001, 3 of 002, 2 of 003, 8 of 004"
    )
    for statement in statements:
        head = re.match(
            r"(CREATE TABLE|CREATE MATERIALIZED VIEW|ALTER TABLE) (IF NOT EXISTS )?\w+ ", statement
        )
        assert head is not None, statement
        assert statement[head.end() :].startswith(ON), statement


def test_every_table_is_replicated_with_keeper_paths_and_dedup_windows() -> None:
    tables = {}
    for statement in _cluster():
        if statement.startswith("CREATE TABLE"):
            name = statement.split()[5]
            tables[name] = statement
            assert "non_replicated" not in statement
            assert re.findall(r"ENGINE = (\w+)", statement) == ["ReplicatedReplacingMergeTree"]
            assert f"SETTINGS {DEDUP}" in statement, name
    assert set(tables) == {
        "schema_migrations",
        "production_history",
        "production",
        "dead_letters",
        "shares",
    }
    assert f"ReplicatedReplacingMergeTree({PATH}, version)" in tables["production"]
    for name in ("schema_migrations", "production_history", "dead_letters", "shares"):
        assert f"ReplicatedReplacingMergeTree({PATH})\n" in tables[name].replace(
            ") ORDER", ")\nORDER"
        )


def test_the_view_and_the_alters_run_on_the_cluster() -> None:
    statements = _cluster()
    (view,) = [s for s in statements if "MATERIALIZED VIEW" in s]
    assert view.startswith(
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS production_current_mv {ON} TO production AS"
    )
    alters = [s for s in statements if s.startswith("ALTER")]
    # 3 of 002 (projection), 2 of 003 (dead-letter columns), 7 of 004 (owner columns, the
    # view's query, the projection again)
    assert len(alters) == 12
    tables = ("production", "production_history", "production_current_mv", "dead_letters")
    assert all(a.startswith(tuple(f"ALTER TABLE {t} {ON} " for t in tables)) for a in alters)


def test_the_single_node_ddl_is_the_files_unchanged() -> None:
    assert schema.rendered(_single_node(), None) == _single_node()
    assert schema._TRACKING == (
        "CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String,"
        " checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))"
        " ENGINE = ReplacingMergeTree ORDER BY version"
    )


@pytest.mark.parametrize(
    "statement",
    [
        "DROP TABLE production",
        "CREATE TABLE t (a UInt8) ENGINE = MergeTree ORDER BY a",
        "CREATE TABLE IF NOT EXISTS t (a UInt8) ENGINE = MergeTree ORDER BY a",
        "CREATE TABLE IF NOT EXISTS t (a UInt8) ENGINE = ReplacingMergeTree ORDER BY a"
        " SETTINGS index_granularity = 1024",
    ],
)
def test_a_statement_it_cannot_render_is_an_error_not_single_node_ddl(statement: str) -> None:
    with pytest.raises(ValueError, match="cannot"):
        schema.for_cluster(statement, CLUSTER)


_PARSE = r"""
import json, sys, chdb
connection = chdb.connect(":memory:")
cursor = connection.cursor()
for statement in json.load(sys.stdin):
    quoted = "'" + statement.replace("\\", "\\\\").replace("'", "\\'") + "'"
    cursor.execute(f"SELECT formatQuery({quoted})")
    print(json.dumps(cursor.fetchall()[0][0]))
"""


def test_the_engine_parses_every_cluster_statement() -> None:
    statements = _cluster()
    done = subprocess.run(
        [sys.executable, "-c", _PARSE],
        input=json.dumps(statements),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    formatted = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(formatted) == len(statements)
    assert all(f" ON CLUSTER {CLUSTER}" in f for f in formatted)
    engines = [f for f in formatted if "ENGINE" in f]
    assert len(engines) == 5
    assert all("ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}" in f for f in engines)
