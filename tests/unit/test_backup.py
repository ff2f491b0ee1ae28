"""``wellstream backup``/``restore`` without a broker or an engine: where a backup goes
as ClickHouse names it, the manifest's checks, and the errors a user sees."""

import argparse
import json
from pathlib import Path

import pytest

from wellstream import backup, backup_cli, offsets
from wellstream.backup_target import BackupError, target
from writer.config import WriterSettings

CHDB = "chdb:///var/lib/wellstream"
SERVER = "https://default:secret@clickhouse:8443/wells"


def test_a_directory_for_the_embedded_engine_with_its_manifest_beside_it(tmp_path: Path) -> None:
    where = target(str(tmp_path / "b1"), CHDB, None)
    assert where.sql == f"File('{tmp_path}/b1')"
    assert where.local == tmp_path / "b1"
    assert where.manifest == tmp_path / "b1.manifest.json"
    where.ensure_new()
    with pytest.raises(BackupError, match="no backup at"):
        where.ensure_present()
    (tmp_path / "b1").mkdir()
    with pytest.raises(BackupError, match="a new directory"):
        where.ensure_new()


def test_s3_carries_credentials_in_sql_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WELLSTREAM_BACKUP_S3_ACCESS_KEY_ID", "AKID")
    monkeypatch.setenv("WELLSTREAM_BACKUP_S3_SECRET_ACCESS_KEY", "it's")
    url = "https://bucket.s3.amazonaws.com/wells/2026-01-01"
    where = target(url, SERVER, Path("m.json"))
    assert where.sql == f"S3('{url}', 'AKID', 'it\\'s')"
    assert where.display == f"S3('{url}')"
    with pytest.raises(BackupError, match="--manifest"):
        target(url, SERVER, None)


def test_a_server_writes_its_own_file_or_disk_and_needs_a_manifest_path() -> None:
    assert target("wells/b1", SERVER, Path("m.json")).sql == "File('wells/b1')"
    assert target("disk:backups/b1", SERVER, Path("m.json")).sql == "Disk('backups', 'b1')"
    with pytest.raises(BackupError, match="--manifest"):
        target("wells/b1", SERVER, None)
    with pytest.raises(BackupError, match="disk:NAME/PATH"):
        target("disk:backups", SERVER, Path("m.json"))


def test_the_groups_are_named_as_the_services_name_them() -> None:
    settings = WriterSettings(consumer_group_prefix="prod")
    named = {role: (g.name, g.topic) for role, g in offsets.groups(settings).items()}
    assert named == {
        "writer": ("prod.writer", settings.topic_normalized),
        "writer_dlq": ("prod.writer-dlq", settings.topic_dlq),
        "validator": ("prod.validator", settings.topic_raw),
    }


def _manifest(topic: str) -> dict[str, object]:
    group = {"group": "g", "topic": topic, "offsets": {"0": 5, "1": None}}
    return {"format": backup.FORMAT, "groups": {"writer": group, "writer_dlq": group}}


def test_the_manifest_offsets_must_be_of_the_topics_named_now() -> None:
    settings = WriterSettings(topic_normalized="t", topic_dlq="t")
    groups = offsets.groups(settings)
    assert backup.recorded_offsets(_manifest("t"), groups)["writer"] == {0: 5, 1: None}
    with pytest.raises(BackupError, match="of topic other"):
        backup.recorded_offsets(_manifest("other"), groups)


def test_a_missing_or_foreign_manifest_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="no manifest"):
        backup.read_manifest(tmp_path / "none.json")
    (tmp_path / "x.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(BackupError, match="is not a wellstream-backup/1 manifest"):
        backup.read_manifest(tmp_path / "x.json")


def test_restore_of_nothing_stops_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WELLSTREAM_CLICKHOUSE_URL", f"chdb://{tmp_path}/data")
    parser_args = ["restore", str(tmp_path / "missing")]
    parser = argparse.ArgumentParser()
    backup_cli.add_commands(parser.add_subparsers(dest="command"))
    with pytest.raises(SystemExit, match=r"^wellstream restore: no backup at .*missing"):
        backup_cli.main(parser.parse_args(parser_args))
