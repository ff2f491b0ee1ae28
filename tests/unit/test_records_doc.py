"""docs/records.md names every validation rule the validator applies."""

from pathlib import Path

from validator.rules import RULES

DOC = Path(__file__).resolve().parents[2] / "docs" / "records.md"


def test_every_rule_is_documented_with_its_default_severity() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [
        code for code, rule in RULES.items() if f"| `{code}` | {rule.severity} |" not in text
    ]
    assert missing == []
