"""Settings: clear start-up errors, secrets from files."""

import json
import os
import subprocess
import sys
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
    assert "invalid setting WELLSTREAM_REFERENCE_RETRY_FOR_SECONDS: " in str(caught.value)
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


ORIGINS = "https://a.example.com,https://b.example.com"


@pytest.mark.parametrize(
    "value",
    [ORIGINS, " https://a.example.com , https://b.example.com ", json.dumps(ORIGINS.split(","))],
)
def test_a_list_is_comma_separated_or_json(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("WELLSTREAM_CORS_ALLOWED_ORIGINS", value)
    assert load(Settings).cors_allowed_origins == ORIGINS.split(",")


def test_every_plain_list_setting_takes_commas(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from gateway.config import GatewaySettings

    monkeypatch.setenv("WELLSTREAM_JWT_ALGORITHMS", "RS256,ES256")
    (tmp_path / "origins").write_text(ORIGINS + "\n")
    monkeypatch.setenv("WELLSTREAM_CORS_ALLOWED_ORIGINS_FILE", str(tmp_path / "origins"))
    settings = load(GatewaySettings)
    assert settings.jwt_algorithms == ["RS256", "ES256"]
    assert settings.cors_allowed_origins == ORIGINS.split(",")


def test_a_list_of_objects_is_json_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WELLSTREAM_API_KEYS", "ops:abc")
    with pytest.raises(SettingsError) as caught:
        load(Settings)
    assert str(caught.value) == (
        "invalid setting WELLSTREAM_API_KEYS: Input should be a valid list (a JSON list)"
    )


def test_sasl_needs_a_user_and_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WELLSTREAM_KAFKA_SECURITY_PROTOCOL", "sasl_ssl")
    monkeypatch.setenv("WELLSTREAM_KAFKA_SASL_USERNAME", "svc")
    with pytest.raises(SettingsError, match="needs WELLSTREAM_KAFKA_SASL_USERNAME and"):
        load(Settings)
    monkeypatch.setenv("WELLSTREAM_KAFKA_SASL_PASSWORD", "secret")
    settings = load(Settings)
    assert settings.kafka_security_protocol == "SASL_SSL"
    assert "secret" not in repr(settings)


def test_a_ca_file_must_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WELLSTREAM_KAFKA_SSL_CAFILE", "/nonexistent/ca.pem")
    with pytest.raises(SettingsError, match="WELLSTREAM_KAFKA_SSL_CAFILE: Path does not"):
        load(Settings)


def test_producers_send_no_more_than_topics_accept(monkeypatch: pytest.MonkeyPatch) -> None:
    default = load(Settings)
    assert default.producer_max_request_bytes <= default.topic_max_message_bytes
    monkeypatch.setenv("WELLSTREAM_PRODUCER_MAX_REQUEST_BYTES", "2000000")
    with pytest.raises(SettingsError, match="must not exceed WELLSTREAM_TOPIC_MAX_MESSAGE"):
        load(Settings)


MAINS = {
    "gateway": "from gateway.app import main",
    "ingestor": "from ingestor.app import main",
    "validator": "from validator.app import main",
    "writer": "from writer.app import main",
    "migrate": "from wellstream.cli import main; sys.argv.append('migrate')",
}


@pytest.mark.parametrize("name", MAINS)
def test_a_bad_value_stops_each_service_with_one_line(name: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WELLSTREAM_")}
    env |= {"WELLSTREAM_CORS_ALLOWED_ORIGINS": ORIGINS, "WELLSTREAM_TOPIC_PARTITIONS": "many"}
    code = f"import sys; sys.argv = ['{name}']; {MAINS[name]}; main()"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        "invalid setting WELLSTREAM_TOPIC_PARTITIONS: Input should be a valid integer, "
        "unable to parse string as an integer"
    ]
