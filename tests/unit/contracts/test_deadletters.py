"""A dead letter keeps a bounded payload: whatever was rejected, its message stays far
below the producers' request size, and says what it cut."""

import hashlib

import pytest

from contracts import DeadLetter, ErrorDetail
from contracts.deadletters import ERRORS_CAP, MESSAGE_CAP_CHARS, PAYLOAD_CAP_BYTES

ERRORS = [ErrorDetail(code="unparseable_json", message="record longer than 262144 bytes")]
SLACK = 4096  # what the letter holds besides its payload: stage, errors, times


def _encoded(raw: bytes, cap: int = PAYLOAD_CAP_BYTES) -> tuple[DeadLetter, bytes]:
    letter = DeadLetter.for_payload(raw, stage="ingestor", errors=ERRORS, line=3, cap_bytes=cap)
    return letter, letter.model_dump_json().encode()


def test_a_small_payload_is_kept_whole_and_unmarked() -> None:
    letter, _ = _encoded(b'{"well_code": 1}')
    assert letter.payload == '{"well_code": 1}'
    assert not letter.payload_truncated
    assert letter.payload_bytes is None
    assert letter.payload_sha256 is None
    assert letter.accepted_at_ms is None


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"x" * 690_000, id="plain-690KB"),
        # Today's symptom: 690 KB without a period became a 1.15 MB dead letter.
        pytest.param(('"\u0001' * 350_000).encode(), id="quotes-and-controls-700KB"),
        pytest.param(b"\xff" * 700_000, id="not-utf8-base64"),
        pytest.param(("é☃😀" * 100_000).encode(), id="multibyte"),
    ],
)
def test_any_payload_encodes_within_the_cap_plus_a_few_kb(raw: bytes) -> None:
    letter, encoded = _encoded(raw)

    assert len(encoded) < PAYLOAD_CAP_BYTES + SLACK
    assert letter.payload_truncated
    assert letter.payload_bytes == len(raw)
    assert letter.payload_sha256 == hashlib.sha256(raw).hexdigest()
    assert raw.startswith(letter.original_bytes())
    assert len(letter.original_bytes()) > PAYLOAD_CAP_BYTES // 8  # cut, not emptied


def test_the_cap_is_a_parameter() -> None:
    letter, encoded = _encoded(b"y" * 10_000, cap=1024)
    assert letter.payload_truncated
    assert len(encoded) < 1024 + SLACK
    assert letter.original_bytes() == b"y" * (1024 - 2)  # the two quotes count


def test_a_payload_at_the_cap_is_not_cut() -> None:
    raw = b"z" * (PAYLOAD_CAP_BYTES - 2)
    letter, _ = _encoded(raw)
    assert not letter.payload_truncated
    assert letter.original_bytes() == raw


def test_replay_time_survives_a_round_trip() -> None:
    letter, _ = _encoded(b"{}")
    stamped = letter.model_copy(update={"accepted_at_ms": 1_700_000_000_000})
    again = DeadLetter.model_validate_json(stamped.model_dump_json())
    assert again.accepted_at_ms == 1_700_000_000_000


def test_errors_that_quote_a_huge_value_are_cut() -> None:
    huge = "x" * 1_000_000
    errors = [ErrorDetail(field=f"volumes.{huge}", code="invalid_value", message=huge)] * 500
    letter = DeadLetter.for_payload(b"{}", stage="validator", errors=errors)
    assert len(letter.errors) == ERRORS_CAP
    assert all(len(e.message) <= MESSAGE_CAP_CHARS for e in letter.errors)
    assert all(len(e.field or "") <= MESSAGE_CAP_CHARS for e in letter.errors)
    assert len(letter.model_dump_json()) < 2 * ERRORS_CAP * (MESSAGE_CAP_CHARS + 100)
