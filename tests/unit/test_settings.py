"""Settings: clear start-up errors, secrets from files."""

import json
from pathlib import Path

import pytest

from runtime.settings import Settings, SettingsError, load


def test_bad_values_stop_start_up_naming_each_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WELLSTREAM_CLICKHOUSE_URL", "postgres://x")
    monkeypatch.setenv("WELLSTREAM_TOPIC_PARTITIONS", "0")
    with pytest.raises(SettingsError) as caught:
        load(Settings)
    message = str(caught.value)
    assert "WELLSTREAM_CLICKHOUSE_URL" in message
    assert "WELLSTREAM_TOPIC_PARTITIONS" in message


def test_short_api_keys_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = [{"name": "x", "key": "short", "scopes": ["read"]}]
    monkeypatch.setenv("WELLSTREAM_API_KEYS", json.dumps(keys))
    with pytest.raises(SettingsError, match="WELLSTREAM_API_KEYS"):
        load(Settings)


def test_secrets_come_from_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    keys = [{"name": "ops", "key": "k" * 20, "scopes": ["admin"]}]
    (tmp_path / "keys").write_text(json.dumps(keys))
    (tmp_path / "url").write_text("http://u:p@ch:8123/db\n")
    monkeypatch.setenv("WELLSTREAM_API_KEYS_FILE", str(tmp_path / "keys"))
    monkeypatch.setenv("WELLSTREAM_CLICKHOUSE_URL_FILE", str(tmp_path / "url"))
    settings = load(Settings)
    assert settings.clickhouse_url == "http://u:p@ch:8123/db"
    assert settings.api_keys[0].key.get_secret_value() == "k" * 20


def test_a_variable_wins_over_its_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "url").write_text("http://from-file:8123")
    monkeypatch.setenv("WELLSTREAM_CLICKHOUSE_URL_FILE", str(tmp_path / "url"))
    monkeypatch.setenv("WELLSTREAM_CLICKHOUSE_URL", "http://from-env:8123")
    assert load(Settings).clickhouse_url == "http://from-env:8123"


def test_api_keys_are_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "s3cret-key-0123456789"
    monkeypatch.setenv(
        "WELLSTREAM_API_KEYS", json.dumps([{"name": "a", "key": secret, "scopes": ["read"]}])
    )
    settings = load(Settings)
    assert secret not in repr(settings)
    assert secret not in str(settings.model_dump())
