"""Schema migrations: versioned SQL files applied in order, once each, and recorded.

Files live in ``migrations/`` as ``NNN_name.sql``; statements are separated by ``;`` at
the end of a line. Every statement is idempotent (``IF NOT EXISTS``), so a migration
interrupted half-way is simply applied again.

The files hold the single-node DDL. With a cluster (``WELLSTREAM_CLICKHOUSE_CLUSTER``),
each statement is rendered for it (``for_cluster``): ``ON CLUSTER``, ``Replicated`` engines
on Keeper paths from the server's macros, and the replicated deduplication windows the
insert tokens rely on. The files, and so their checksums, are the same either way.
"""

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources

from runtime.clickhouse import ClickHouse

log = logging.getLogger(__name__)

_TABLE = "schema_migrations"
_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
_TRACKING = (
    f"CREATE TABLE IF NOT EXISTS {_TABLE} (version UInt32, name String, checksum String,"
    " applied_at DateTime64(3, 'UTC') DEFAULT now64(3))"
    " ENGINE = ReplacingMergeTree ORDER BY version"
)

#: Where each replica keeps its table in Keeper; ``{shard}`` and ``{replica}`` are the
#: server's macros, ``{database}`` and ``{table}`` filled in by the server.
KEEPER_PATH = "/clickhouse/tables/{shard}/{database}/{table}"
#: Insert tokens make a replayed insert a no-op while its block is among the last
#: ``replicated_deduplication_window`` blocks and younger than the seconds below.
DEDUP_BLOCKS = 10_000
DEDUP_SECONDS = 7 * 24 * 3600

_CREATE = re.compile(r"^(CREATE (?:TABLE|MATERIALIZED VIEW) IF NOT EXISTS) (\w+)")
_ALTER = re.compile(r"^(ALTER TABLE) (\w+)")
_ENGINE = re.compile(r"ENGINE = ReplacingMergeTree(?:\((\w+)\))?(?=\s)")
_ANY_ENGINE = re.compile(r"ENGINE = (\w+)")
_DEDUP = re.compile(r"non_replicated_deduplication_window = \d+")


def for_cluster(statement: str, cluster: str) -> str:
    """``statement`` (single-node DDL) rendered for the replicated ``cluster``; a
    ValueError for a statement it does not know how to render."""
    on = f"ON CLUSTER `{cluster}`"
    head = _CREATE.match(statement) or _ALTER.match(statement)
    if head is None:
        raise ValueError(f"cannot render for a cluster: {statement[:60]!r}")
    out = f"{head[1]} {head[2]} {on}{statement[head.end() :]}"

    def replicated(match: re.Match[str]) -> str:
        version = f", {match[1]}" if match[1] else ""
        return f"ENGINE = ReplicatedReplacingMergeTree('{KEEPER_PATH}', '{{replica}}'{version})"

    out = _ENGINE.sub(replicated, out)
    engines = _ANY_ENGINE.findall(out)
    if any(not e.startswith("Replicated") for e in engines):
        raise ValueError(f"cannot render engine {engines} for a cluster: {statement[:60]!r}")
    if engines and not _DEDUP.search(out):
        if "SETTINGS" in out:
            raise ValueError(f"cannot add the deduplication windows: {statement[:60]!r}")
        return f"{out}\nSETTINGS {_DEDUP_SETTINGS}"
    return _DEDUP.sub(_DEDUP_SETTINGS, out)


_DEDUP_SETTINGS = (
    f"replicated_deduplication_window = {DEDUP_BLOCKS}, "
    f"replicated_deduplication_window_seconds = {DEDUP_SECONDS}"
)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    def statements(self) -> list[str]:
        lines = [ln for ln in self.sql.splitlines() if not ln.lstrip().startswith("--")]
        return [s.strip() for s in re.split(r";\s*$", "\n".join(lines), flags=re.M) if s.strip()]


def available() -> list[Migration]:
    folder = resources.files("writer") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def rendered(statements: list[str], cluster: str | None) -> list[str]:
    """``statements`` as they run: unchanged on one node, ``for_cluster`` on a cluster."""
    return statements if cluster is None else [for_cluster(s, cluster) for s in statements]


async def migrate(ch: ClickHouse, cluster: str | None = None) -> list[str]:
    """Apply every migration not yet recorded; return the names applied. With
    ``cluster``, the DDL runs ``ON CLUSTER`` with replicated engines (``for_cluster``)."""
    (tracking,) = rendered([_TRACKING], cluster)
    await ch.command(tracking)
    done = {row[0]: row[1] for row in await ch.rows(f"SELECT version, checksum FROM {_TABLE}")}
    applied = []
    for migration in available():
        if migration.version in done:
            if done[migration.version] != migration.checksum:
                log.warning("migration %s changed after it was applied", migration.name)
            continue
        for statement in rendered(migration.statements(), cluster):
            await ch.command(statement)
        await ch.insert(
            _TABLE,
            [[migration.version], [migration.name], [migration.checksum]],
            ["version", "name", "checksum"],
        )
        log.info("applied migration %s", migration.name)
        applied.append(migration.name)
    return applied
