"""Settings: clear start-up errors, secrets from files."""

import json
from pathlib import Path

import pytest
from pydantic import AliasChoices

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


def test_renamed_settings_read_new_and_old_names(monkeypatch: pytest.MonkeyPatch) -> None:
    from ingestor.config import IngestorSettings

    monkeypatch.setenv("WELLSTREAM_PUBLISH_TIMEOUT_S", "7")
    assert load(IngestorSettings).publish_timeout_seconds == 7
    monkeypatch.setenv("WELLSTREAM_PUBLISH_TIMEOUT_SECONDS", "9")
    assert load(IngestorSettings).publish_timeout_seconds == 9  # the new name wins
    monkeypatch.delenv("WELLSTREAM_PUBLISH_TIMEOUT_S")
    assert load(IngestorSettings).publish_timeout_seconds == 9
    assert IngestorSettings(publish_timeout_seconds=3).publish_timeout_seconds == 3


def test_the_old_per_minute_limit_is_requests_per_60_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ingestor.config import IngestorSettings

    default = load(IngestorSettings)
    assert (default.rate_limit_requests, default.rate_limit_period_seconds) == (600, 60)
    monkeypatch.setenv("WELLSTREAM_RATE_LIMIT_PER_MINUTE", "0")
    assert load(IngestorSettings).rate_limit_requests == 0


def test_an_old_name_is_warned_of_and_named_in_errors(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from validator.config import ValidatorSettings

    monkeypatch.setenv("WELLSTREAM_REFERENCE_RETRY_FOR_S", "0")
    with pytest.raises(SettingsError) as caught:
        load(ValidatorSettings)
    assert "  WELLSTREAM_REFERENCE_RETRY_FOR_SECONDS: " in str(caught.value)
    assert "WELLSTREAM_REFERENCE_RETRY_FOR_S is deprecated" in caplog.text


def test_every_alias_starts_with_the_settings_own_variable() -> None:
    from wellstream.settingsdoc import _classes

    for _, cls in _classes():
        for name, field in cls.model_fields.items():
            alias = field.validation_alias
            if alias is not None:
                assert isinstance(alias, AliasChoices)
                assert alias.choices[0] == f"WELLSTREAM_{name.upper()}", name


def test_durations_say_their_unit() -> None:
    from wellstream.settingsdoc import _classes

    # Kafka client timeouts mirror Kafka's own *.ms settings
    kafka_ms = {
        "batch_timeout_ms",
        "batch_max_wait_ms",
        "max_poll_interval_ms",
        "session_timeout_ms",
    }
    for _, cls in _classes():
        for name in cls.model_fields:
            assert not name.endswith("_s"), name
            assert not name.endswith("_ms") or name in kafka_ms, name
