"""Writer settings: defaults and the start-up checks."""

import pytest

from runtime.settings import SettingsError, load
from writer.config import WriterSettings


def test_defaults() -> None:
    settings = WriterSettings()

    assert settings.port == 8003
    assert settings.migrate_on_start is True


@pytest.mark.parametrize(
    ("env", "message"),
    [
        pytest.param(
            {"WELLSTREAM_INSERT_RETRY_SECONDS": "200"},
            "WELLSTREAM_INSERT_RETRY_SECONDS: must be at most half",
            id="retries-outlast-poll-interval",
        ),
        pytest.param(
            {"WELLSTREAM_BATCH_MAX_RECORDS": "0"},
            "WELLSTREAM_BATCH_MAX_RECORDS",
            id="empty-batches",
        ),
    ],
)
def test_bad_settings_stop_start_up_with_the_variable_named(
    env: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError, match=message):
        load(WriterSettings)
