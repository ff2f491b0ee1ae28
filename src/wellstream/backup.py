"""``wellstream backup`` and ``wellstream restore``: ClickHouse's own BACKUP and RESTORE
of the database's tables, with a JSON manifest of the consumer offsets they match.

Backup reads the groups' committed offsets first, then backs the tables up: every
record before a writer's committed offset is in the backup, and records after it may be
too (a replay of them is harmless: ReplacingMergeTree, versions, reads by argMax).
Restore needs the writers stopped: it restores the tables, then sets the writer groups'
offsets back to the recorded ones, so the writers replay what came after the backup.
"""

import asyncio
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from runtime.clickhouse import ClickHouse
from wellstream import offsets
from wellstream.backup_target import BackupError, Target, connect, target
from writer.config import WriterSettings

FORMAT = "wellstream-backup/1"
#: The tables a migrated database has; a backup holds every table of the database.
REQUIRED = ("schema_migrations", "production_history", "production", "dead_letters")
#: The groups a restore moves back: the writers'. The validator's offsets are recorded
#: (where its output in the normalized topic began) but not moved.
RESET = ("writer", "writer_dlq")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def _tables(ch: ClickHouse) -> list[str]:
    rows = await ch.rows(
        "SELECT name FROM system.tables WHERE database = currentDatabase()"
        " AND NOT is_temporary ORDER BY name"
    )
    return [str(name) for (name,) in rows]


def _elements(tables: list[str], cluster: str | None) -> str:
    listed = ", ".join(f"TABLE `{name}`" for name in tables)
    return f"{listed} ON CLUSTER `{cluster}`" if cluster else listed


async def _follow(ch: ClickHouse, statement: str, done: str, every: float = 2.0) -> None:
    """Run ``statement`` (BACKUP or RESTORE) ``ASYNC`` and report its progress until
    its status is ``done``; a BackupError with ClickHouse's reason if it fails."""
    ((ident, status),) = await ch.rows(f"{statement} ASYNC")
    said, error = 0.0, ""
    while status not in (done, "BACKUP_FAILED", "RESTORE_FAILED"):
        await asyncio.sleep(0.2)
        ((status, files, size, error),) = await ch.rows(
            "SELECT status, num_files, total_size, error FROM system.backups"
            " WHERE id = {id:String}",
            parameters={"id": ident},
        )
        if status == done or time.monotonic() - said >= every:
            _say(f"  {status.lower()}: {files} files, {size / 2**20:.1f} MiB")
            said = time.monotonic()
    if status != done:
        raise BackupError(f"{statement.split()[0]} failed: {error.splitlines()[0]}")


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


async def backup(settings: WriterSettings, to: str, manifest: Path | None = None) -> Path:
    """Back the database up to ``to`` and write its manifest; the manifest's path."""
    where = target(to, settings.clickhouse_url, manifest)
    where.ensure_new()
    groups = offsets.groups(settings)
    _say(f"reading the committed offsets of {', '.join(g.name for g in groups.values())}")
    recorded = await offsets.committed(settings, groups)
    ch = connect(settings, where)
    try:
        tables = await _tables(ch)
        if missing := [t for t in REQUIRED if t not in tables]:
            raise BackupError(f"no table {', '.join(missing)}: run `wellstream migrate` first")
        _say(f"backing up {len(tables)} tables to {where.display}")
        elements = _elements(tables, settings.clickhouse_cluster)
        await _follow(ch, f"BACKUP {elements} TO {where.sql}", "BACKUP_CREATED")
        (database,) = (await ch.rows("SELECT currentDatabase()"))[0]
    finally:
        ch.close()
    _write_manifest(
        where.manifest,
        {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "backup": where.display,
            "database": database,
            "cluster": settings.clickhouse_cluster,
            "tables": tables,
            "groups": {
                role: {"group": g.name, "topic": g.topic, "offsets": recorded[role]}
                for role, g in groups.items()
            },
        },
    )
    _say(f"backup done; manifest {where.manifest}")
    return where.manifest


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"no manifest at {path}") from None
    except json.JSONDecodeError as exc:
        raise BackupError(f"manifest {path} is not JSON: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"manifest {path} is not a {FORMAT} manifest")
    return manifest


def recorded_offsets(
    manifest: dict[str, Any], groups: dict[str, offsets.Group]
) -> dict[str, offsets.Offsets]:
    """The manifest's offsets of the groups a restore resets, checked against the topics
    the settings name now."""
    out = {}
    for role in RESET:
        entry = manifest["groups"][role]
        if entry["topic"] != groups[role].topic:
            raise BackupError(
                f"the backup's {role} offsets are of topic {entry['topic']}; the settings"
                f" name {groups[role].topic}"
            )
        out[role] = {int(p): (None if o is None else int(o)) for p, o in entry["offsets"].items()}
    return out


async def _check_kafka(
    settings: WriterSettings, recorded: dict[str, offsets.Offsets], allow_gap: bool
) -> list[offsets.Group]:
    groups = offsets.groups(settings)
    reset = [groups[role] for role in RESET]
    await offsets.ensure_idle(settings, reset)
    for role in RESET:
        lost = await offsets.gaps(settings, groups[role], recorded[role])
        for partition, (since, first) in lost.items():
            text = (
                f"{groups[role].topic}[{partition}]: offsets {since}..{first - 1} after the"
                " backup were deleted by retention; a replay cannot restore them"
            )
            if not allow_gap:
                raise BackupError(text + " (--allow-gap restores anyway)")
            _say("warning: " + text)
    return reset


async def _restore_tables(
    ch: ClickHouse, where: Target, tables: list[str], replace: bool, cluster: str | None
) -> None:
    present = set(await _tables(ch))
    held = [
        t for t in tables if t in present and (await ch.rows(f"SELECT count() FROM `{t}`"))[0][0]
    ]
    if held and not replace:
        raise BackupError(
            f"tables {', '.join(held)} hold rows: restore into an empty database"
            " (or --replace to drop the backup's tables first)"
        )
    if replace:
        on = f" ON CLUSTER `{cluster}`" if cluster else ""
        for t in sorted(present & set(tables), key=lambda t: not t.endswith("_mv")):
            await ch.command(f"DROP TABLE IF EXISTS `{t}`{on} SYNC")
    _say(f"restoring {len(tables)} tables from {where.display}")
    await _follow(ch, f"RESTORE {_elements(tables, cluster)} FROM {where.sql}", "RESTORED")
    for t in tables:
        if not t.endswith("_mv"):
            ((count,),) = await ch.rows(f"SELECT count() FROM `{t}`")
            _say(f"  {t}: {count} rows")


async def restore(
    settings: WriterSettings,
    source: str,
    manifest_path: Path | None = None,
    *,
    replace: bool = False,
    allow_gap: bool = False,
) -> dict[str, dict[int, int]]:
    """Restore the backup at ``source`` and reset the writer groups to its offsets;
    the offsets committed, by group."""
    where = target(source, settings.clickhouse_url, manifest_path)
    where.ensure_present()
    manifest = read_manifest(where.manifest)
    recorded = recorded_offsets(manifest, offsets.groups(settings))
    reset = await _check_kafka(settings, recorded, allow_gap)
    ch = connect(settings, where)
    try:
        await _restore_tables(ch, where, manifest["tables"], replace, settings.clickhouse_cluster)
    finally:
        ch.close()
    done = {}
    for role, group in zip(RESET, reset, strict=True):
        done[group.name] = await offsets.reset(settings, group, recorded[role])
        _say(f"  {group.name} on {group.topic}: offsets {done[group.name]}")
    _say("restore done: start the writers; they replay the topics from the backup's offsets")
    return done
