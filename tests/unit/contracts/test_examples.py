"""Every example payload beside the tests is valid against its contract."""

from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest
from pydantic import BaseModel

from contracts import DeadLetter, ErrorDetail, RawRecord
from contracts.records import CanonicalRecord, decode_canonical, encode

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
#: How each contract reads its JSON: pydantic models, and the canonical record's decoder.
READERS: dict[str, Callable[[bytes], object]] = {
    "raw": RawRecord.model_validate_json,
    "normalized": decode_canonical,
    "dlq": DeadLetter.model_validate_json,
}
CASES = [
    pytest.param(path.parent.name, path, id=f"{path.parent.name}/{path.stem}")
    for path in sorted(EXAMPLES.glob("*/*.json"))
]


def _dumped(value: object) -> bytes:
    return value.model_dump_json().encode() if isinstance(value, BaseModel) else encode(value)


def test_there_are_examples_of_each_contract() -> None:
    assert {case.values[0] for case in CASES} == set(READERS)


@pytest.mark.parametrize(("contract", "path"), CASES)
def test_example_is_valid(contract: str, path: Path) -> None:
    read = READERS[contract]
    parsed = read(path.read_bytes())
    again = read(_dumped(parsed))
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
    record = decode_canonical((EXAMPLES / "normalized/monthly.json").read_bytes())
    assert isinstance(record, CanonicalRecord)
    assert "a_field_from_a_newer_schema" not in msgspec.structs.asdict(record)
