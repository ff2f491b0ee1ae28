"""Where a backup goes: a directory (``File``), a server's backup disk (``Disk``) or S3,
as ClickHouse names it in BACKUP and RESTORE; and the ClickHouse client that may use it.

The embedded engine (``chdb://``) writes a directory on this machine: the command opens
the data directory itself with ``backups.allowed_path`` set to the backup's parent (so
no other process may hold it: stop ``wellstream run`` first). A server writes where its
own configuration allows (``backups.allowed_path``, ``backups.allowed_disk``) or to S3.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import clickhouse_connect

from runtime.clickhouse import ClickHouse
from runtime.clickhouse import connect as connect_server
from writer.config import WriterSettings

#: S3 credentials for a backup (optional: without them the server uses its own).
S3_KEY_ID = "WELLSTREAM_BACKUP_S3_ACCESS_KEY_ID"
S3_SECRET = "WELLSTREAM_BACKUP_S3_SECRET_ACCESS_KEY"  # noqa: S105 - a variable's name


class BackupError(RuntimeError):
    """A backup or restore cannot go on; the message says why and what to do."""


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True, slots=True)
class Target:
    sql: str
    """The backup engine as BACKUP ... TO and RESTORE ... FROM take it."""
    display: str
    """The same without credentials, for messages and the manifest."""
    manifest: Path
    local: Path | None = None
    """The backup's directory when this machine writes it (the embedded engine)."""

    def ensure_new(self) -> None:
        if self.local is not None and self.local.exists():
            raise BackupError(f"{self.local} exists: a backup goes to a new directory")
        if self.manifest.exists():
            raise BackupError(f"{self.manifest} exists: a backup writes a new manifest")

    def ensure_present(self) -> None:
        if self.local is not None and not (self.local / ".backup").is_file():
            raise BackupError(f"no backup at {self.local} (its .backup file is missing)")


def _s3(url: str, manifest: Path | None) -> Target:
    if manifest is None:
        raise BackupError("a backup to S3 needs --manifest PATH (the offsets it matches)")
    key, secret = os.environ.get(S3_KEY_ID), os.environ.get(S3_SECRET)
    credentials = f", {_literal(key)}, {_literal(secret)}" if key and secret else ""
    return Target(f"S3({_literal(url)}{credentials})", f"S3({_literal(url)})", manifest)


def target(where: str, clickhouse_url: str, manifest: Path | None) -> Target:
    """``where`` as a backup engine: ``https://...`` (S3), ``disk:NAME/PATH`` (a disk of
    the server's), or a path (``File``: on this machine for the embedded engine, on the
    server's for a server). The manifest defaults to ``<backup>.manifest.json`` beside
    a local backup; elsewhere ``manifest`` is required."""
    if where.startswith(("https://", "http://")):
        return _s3(where, manifest)
    if where.startswith("disk:"):
        disk, _, path = where.removeprefix("disk:").partition("/")
        if not (disk and path and manifest):
            raise BackupError("disk:NAME/PATH, with --manifest PATH")
        sql = f"Disk({_literal(disk)}, {_literal(path)})"
        return Target(sql, sql, manifest)
    if not clickhouse_url.startswith("chdb://"):
        if manifest is None:
            raise BackupError("with a ClickHouse server, say where the manifest goes: --manifest")
        return Target(f"File({_literal(where)})", f"File({_literal(where)})", manifest)
    local = Path(where).resolve()
    sql = f"File({_literal(str(local))})"
    return Target(sql, sql, manifest or local.with_name(local.name + ".manifest.json"), local)


def connect(settings: WriterSettings, where: Target) -> ClickHouse:
    """A client for ``settings.clickhouse_url`` that may write or read ``where``."""
    url = settings.clickhouse_url
    if not url.startswith("chdb://"):
        return ClickHouse(connect_server(url, ca_file=settings.clickhouse_ca_file), retry_for=10)
    if where.local is None:
        raise BackupError("the embedded engine backs up to a directory on this machine")
    where.local.parent.mkdir(parents=True, exist_ok=True)
    data = url.removeprefix("chdb://")
    if data in ("", ":memory:"):
        raise BackupError("an in-memory engine has nothing to back up")
    data = os.path.abspath(data)
    try:
        client = clickhouse_connect.get_client(
            dsn=f"chdb://{data}",
            chdb_options={"backups.allowed_path": f"{where.local.parent}/"},
        )
    except Exception as exc:
        raise BackupError(
            f"cannot open the embedded engine's data directory {data}: {exc}. Another"
            " process may hold it (stop `wellstream run` and the writer first)"
        ) from exc
    return ClickHouse(client, retry_for=10)
