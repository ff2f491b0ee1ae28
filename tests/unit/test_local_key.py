"""Local mode's generated API key is a secret: its file is readable by its owner only."""

import os
import stat
from pathlib import Path

import pytest

from wellstream import local


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(local, "DATA", tmp_path / "data")
    # dev_api_key sets the variable: setenv first so the test's end removes it again.
    monkeypatch.setenv("WELLSTREAM_API_KEYS", "")
    monkeypatch.delenv("WELLSTREAM_API_KEYS")
    return tmp_path / "data"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_generated_key_file_is_owner_only(data_dir: Path) -> None:
    old = os.umask(0o022)  # the usual umask, which would leave a plain file 0644
    try:
        key = local.dev_api_key()
    finally:
        os.umask(old)

    path = data_dir / "dev-api-key"
    assert _mode(path) == 0o600
    assert path.read_text() == key


def test_a_world_readable_key_file_is_made_owner_only(data_dir: Path) -> None:
    data_dir.mkdir()
    path = data_dir / "dev-api-key"
    path.write_text("an-older-key")
    path.chmod(0o644)

    assert local.dev_api_key() == "an-older-key"
    assert _mode(path) == 0o600
