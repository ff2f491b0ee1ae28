"""Schema migrations: versioned SQL files applied in order, once each, and recorded.

Files live in ``migrations/`` as ``NNN_name.sql``; statements are separated by ``;`` at
the end of a line. Every statement is idempotent (``IF NOT EXISTS``), so a migration
interrupted half-way is simply applied again.
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


async def migrate(ch: ClickHouse) -> list[str]:
    """Apply every migration not yet recorded; return the names applied."""
    await ch.command(
        f"CREATE TABLE IF NOT EXISTS {_TABLE} (version UInt32, name String, checksum String,"
        " applied_at DateTime64(3, 'UTC') DEFAULT now64(3))"
        " ENGINE = ReplacingMergeTree ORDER BY version"
    )
    done = {row[0]: row[1] for row in await ch.rows(f"SELECT version, checksum FROM {_TABLE}")}
    applied = []
    for migration in available():
        if migration.version in done:
            if done[migration.version] != migration.checksum:
                log.warning("migration %s changed after it was applied", migration.name)
            continue
        for statement in migration.statements():
            await ch.command(statement)
        await ch.insert(
            _TABLE,
            [[migration.version], [migration.name], [migration.checksum]],
            ["version", "name", "checksum"],
        )
        log.info("applied migration %s", migration.name)
        applied.append(migration.name)
    return applied
