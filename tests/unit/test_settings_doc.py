"""docs/settings.md is generated from the settings classes and must match them."""

from pathlib import Path

from wellstream.settingsdoc import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_settings_reference_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/settings.md is stale: run `uv run wellstream settings > docs/settings.md`"
    )


def test_every_setting_is_described() -> None:
    undocumented = [line for line in render().splitlines() if line.endswith("|  |")]
    assert undocumented == []
