"""Codes, data sources and names of any length or with invisible characters are dead
letters with a reason, found by both paths, and kept by no cache."""

from typing import Any

import pytest

from contracts import ErrorCode
from contracts.identifiers import MAX_CODE_LENGTH, canonical_code, code_problem
from tests.unit.validator.conftest import NOW, good, message
from validator import clean
from validator.canonical import Clock
from validator.clean import CleanPath
from validator.explain import explain
from validator.pipeline import process_batch, wells_of
from validator.rules import MAX_NAME_LENGTH, Policy

POLICY = Policy()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("7-MRL-123D", None, id="plain"),
        pytest.param(" 7-mrl 123d ", None, id="spaces-are-normalized-away"),
        pytest.param("\uff2d\uff32\uff2c\uff0d\uff11\uff12\uff13", None, id="full-width"),
        pytest.param("A" * MAX_CODE_LENGTH, None, id="at-the-limit"),
        pytest.param("A" * (MAX_CODE_LENGTH + 1), "longer than 128 characters", id="too-long"),
        pytest.param("ﷺ" * 10, "longer than 128 characters", id="too-long-after-nfkc"),
        pytest.param("MRL\x00123", "holds the character U+0000", id="nul"),
        pytest.param("MRL\t123", "holds the character U+0009", id="tab"),
        pytest.param("MRL\x1f123", "holds the character U+001F", id="unit-separator"),
        pytest.param("MRL\u200b123", "holds the character U+200B", id="zero-width-space"),
        pytest.param("MRL\u202e123", "holds the character U+202E", id="bidi-override"),
        pytest.param("MRL\u2028123", "holds the character U+2028", id="line-separator"),
        pytest.param("MRL\u2029123", "holds the character U+2029", id="paragraph-separator"),
    ],
)
def test_code_problem(text: str, problem: str | None) -> None:
    assert code_problem(text) == problem


BAD: list[Any] = [
    pytest.param("well_code", "W" * 1_000_000, "longer than 128", id="well-1mb"),
    pytest.param("well_code", "W\u200b1", "U+200B", id="well-invisible"),
    pytest.param("field_code", "F" * 129, "longer than 128", id="field-long"),
    pytest.param("field_code", "F\n1", "U+000A", id="field-newline"),
    pytest.param("data_source", "s" * 129, "longer than 128", id="source-long"),
    pytest.param("data_source", "a\x1fb", "U+001F", id="source-separator"),
    pytest.param("well_name", "n" * (MAX_NAME_LENGTH + 1), "longer than 256", id="name-long"),
    pytest.param("field_name", "n" * 100_000, "longer than 256", id="field-name-long"),
    pytest.param("well_reference", "r" * 300, "longer than 256", id="reference-long"),
]


@pytest.mark.parametrize(("field", "value", "problem"), BAD)
def test_the_clean_path_gives_up_and_the_explaining_path_explains(
    field: str, value: str, problem: str
) -> None:
    item = message(good(**{field: value}))
    assert CleanPath(POLICY, Clock(NOW), None).record(item) is None
    errors = explain(item, POLICY, None, Clock(NOW))
    assert isinstance(errors, list)
    assert [(e.field, e.code) for e in errors] == [(field, ErrorCode.INVALID_VALUE)]
    assert problem in errors[0].message
    assert len(errors[0].message) < 200, "the message names the problem, not the value"


@pytest.mark.parametrize(("field", "value", "problem"), BAD)
def test_a_batch_makes_them_bounded_dead_letters(field: str, value: str, problem: str) -> None:
    result = process_batch([message(good()), message(good(**{field: value}), 1)], POLICY, {}, NOW)
    assert len(result.normalized) == 1
    (rejection,) = result.rejected
    assert len(rejection.dead_letter.model_dump_json()) < 20_000


def test_refused_codes_are_neither_looked_up_nor_cached() -> None:
    canonical_code.cache_clear()
    clean._SEEN.clear()
    long_codes = [message(good(well_code=f"{i}" + "W" * 1_000_000), i) for i in range(20)]
    assert wells_of(long_codes) == set()
    result = process_batch(long_codes, POLICY, {}, NOW)
    assert len(result.rejected) == 20
    assert canonical_code.cache_info().currsize == 1, "only the field code, 77"
    assert not clean._SEEN


def test_the_clean_path_cache_is_bounded_in_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    clean._SEEN.clear()
    clean._seen_bytes[0] = 0
    monkeypatch.setattr(clean, "SEEN_BYTES_LIMIT", 200_000)
    names = "n" * MAX_NAME_LENGTH
    items = [
        message(good(well_code=f"W{i}", well_name=names, field_name=names), i) for i in range(500)
    ]
    result = process_batch(items, POLICY, None, NOW)
    assert len(result.normalized) == 500
    assert 0 < clean._seen_bytes[0] <= 200_000
    assert len(clean._SEEN) < 500
