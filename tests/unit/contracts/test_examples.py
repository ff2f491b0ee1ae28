"""Every example payload beside the tests is valid against its contract."""

from pathlib import Path

import pytest
from pydantic import BaseModel

from contracts import CanonicalRecord, DeadLetter, ErrorDetail, RawRecord

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MODELS: dict[str, type[BaseModel]] = {
    "raw": RawRecord,
    "normalized": CanonicalRecord,
    "dlq": DeadLetter,
}
CASES = [
    pytest.param(MODELS[path.parent.name], path, id=f"{path.parent.name}/{path.stem}")
    for path in sorted(EXAMPLES.glob("*/*.json"))
]


def test_there_are_examples_of_each_contract() -> None:
    assert {case.values[0] for case in CASES} == set(MODELS.values())


@pytest.mark.parametrize(("model", "path"), CASES)
def test_example_is_valid(model: type[BaseModel], path: Path) -> None:
    parsed = model.model_validate_json(path.read_bytes())
    again = model.model_validate_json(parsed.model_dump_json())
    assert again == parsed


def test_raw_record_keeps_unknown_fields_and_coerces_codes() -> None:
    raw = RawRecord.model_validate_json((EXAMPLES / "raw/rates_numeric_codes.json").read_bytes())
    assert raw.well_code == "1234"
    assert raw.field_code == "77"
    assert raw.model_extra == {"source_data": "anp-2024-01.csv", "partition_0": "2024"}


def test_blank_rate_is_null_not_zero() -> None:
    raw = RawRecord.model_validate_json((EXAMPLES / "raw/strings_and_blanks.json").read_bytes())
    assert raw.oil_production_kbd == 1.5
    assert raw.gas_production_mmcfd is None
    assert raw.water_production_kbd is None


def test_dead_letter_keeps_bytes_that_are_not_utf8() -> None:
    raw = b"\xff\xfe{bad"
    error = ErrorDetail(code="unparseable_json", message="x")
    letter = DeadLetter.for_payload(raw, stage="validator", errors=[error])
    assert letter.payload is None
    assert letter.original_bytes() == raw


def test_canonical_record_ignores_fields_from_a_newer_schema() -> None:
    record = CanonicalRecord.model_validate_json(
        (EXAMPLES / "normalized/monthly.json").read_bytes()
    )
    assert "a_field_from_a_newer_schema" not in record.model_dump()
