"""Pure normalization: identifiers, periods, units, derived metrics, identity, version
(the validator's own in ``validator.normalize``, the rest from ``contracts``)."""

import hashlib
from datetime import date

import pytest

from contracts.derived import derived
from contracts.identifiers import MAX_REVISION, canonical_code, record_id, version
from contracts.units import Quantity, Unit
from validator.normalize import Period, factor_of, parse_period, to_canonical, unit_of


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        pytest.param("1234", "1234", id="already-canonical"),
        pytest.param("001234", "1234", id="zero-padded-number"),
        pytest.param(" 1234 ", "1234", id="surrounding-spaces"),
        pytest.param("7-MRL-0123D-RJS", "7-MRL-123D-RJS", id="padded-segment"),
        pytest.param("7-mrl-123d-rjs", "7-MRL-123D-RJS", id="lower-case"),
        pytest.param("7-MRL- 123D -RJS", "7-MRL-123D-RJS", id="inner-spaces"),
        pytest.param("15/9-F-12", "15/9-F-12", id="regulator-reference"),
        pytest.param("000", "0", id="all-zeros"),
        pytest.param("A100", "A100", id="inner-zeros-kept"),
        pytest.param("\uff11\uff12\uff13", "123", id="full-width-digits"),
    ],
)
def test_canonical_code(raw: str, canonical: str) -> None:
    assert canonical_code(raw) == canonical


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2024-02", Period("2024-02", date(2024, 2, 1), "month", 29), id="leap-month"),
        pytest.param("2023-02", Period("2023-02", date(2023, 2, 1), "month", 28), id="month"),
        pytest.param("2024-03-31", Period("2024-03-31", date(2024, 3, 31), "day", 1), id="day"),
        pytest.param(
            "2024-03-31T00:00:00", Period("2024-03-31", date(2024, 3, 31), "day", 1), id="midnight"
        ),
        pytest.param(
            "2024-03-31T00:00:00Z", Period("2024-03-31", date(2024, 3, 31), "day", 1), id="utc"
        ),
        pytest.param(
            "2024-03-31T00:00:00.000+02:00",
            Period("2024-03-31", date(2024, 3, 31), "day", 1),
            id="midnight-with-offset",
        ),
        pytest.param("2024-13", None, id="month-13"),
        pytest.param("2024-02-30", None, id="february-30"),
        pytest.param("2024-03-31T06:00:00", None, id="not-midnight"),
        pytest.param("March 2024", None, id="words"),
        pytest.param("2024/03", None, id="slash"),
    ],
)
def test_parse_period(text: str, expected: Period | None) -> None:
    assert parse_period(text) == expected


@pytest.mark.parametrize(
    ("value", "unit", "quantity", "expected"),
    [
        pytest.param(100.0, Unit.BBL, Quantity.OIL, 100.0, id="bbl"),
        pytest.param(100.0, Unit.SM3, Quantity.OIL, 628.9811, id="oil-sm3"),
        pytest.param(100.0, Unit.M3, Quantity.WATER, 628.9811, id="water-m3"),
        pytest.param(1_000.0, Unit.SM3, Quantity.GAS, 35.3147, id="gas-sm3"),
        pytest.param(2_000.0, Unit.SCF, Quantity.GAS, 2.0, id="gas-scf"),
        pytest.param(1.5, Unit.MMCF, Quantity.GAS, 1_500.0, id="gas-mmcf"),
        pytest.param(None, Unit.SM3, Quantity.OIL, None, id="null-stays-null"),
    ],
)
def test_to_canonical(value: float | None, unit: Unit, quantity: Quantity, expected: float) -> None:
    assert to_canonical(value, unit, quantity) == pytest.approx(expected)


def test_a_unit_that_does_not_fit_the_stream_is_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        to_canonical(1.0, Unit.BBL, Quantity.GAS)


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        pytest.param("sm3", Unit.SM3, id="lower-case"),
        pytest.param(" MMCF ", Unit.MMCF, id="upper-case-spaces"),
        pytest.param("barrels", None, id="unknown"),
    ],
)
def test_unit_of(text: str, unit: Unit | None) -> None:
    assert unit_of(text) == unit


def test_factor_of_a_unit_that_does_not_fit_or_is_unknown_is_none() -> None:
    assert factor_of(Quantity.GAS, " mmcf ") == 1_000.0
    assert factor_of(Quantity.GAS, "bbl") is None
    assert factor_of(Quantity.OIL, "barrels") is None


@pytest.mark.parametrize(
    ("volumes", "expected"),
    [
        pytest.param((100.0, 600.0, 100.0, 0.0), (200.0, 0.5, 6_000.0), id="all-streams"),
        pytest.param((0.0, 600.0, None, None), (100.0, None, None), id="gas-well-no-oil"),
        pytest.param((None, None, None, None), (None, None, None), id="nothing-measured"),
        pytest.param((None, None, 50.0, None), (None, None, None), id="water-only"),
        pytest.param((-10.0, 60.0, 5.0, None), (0.0, None, None), id="negative-correction"),
        pytest.param((50.0, None, None, 50.0), (100.0, None, None), id="liquids-count-in-boe"),
    ],
)
def test_derived(
    volumes: tuple[float | None, ...], expected: tuple[float | None, float | None, float | None]
) -> None:
    oil, gas, water, liquids = volumes
    assert tuple(derived(oil, gas, water, liquids)) == pytest.approx(expected)


def test_record_id_is_deterministic_and_separates_every_part_of_the_key() -> None:
    key = ("1234", "77", "2024-01", "month", "anp", "acme")
    assert record_id(*key) == record_id(*key)
    variants = set()
    for i in range(len(key)):
        parts = list(key)
        parts[i] += "x"
        variants.add(record_id(*parts))
    assert record_id(*key) not in variants
    assert len(variants) == len(key)
    assert record_id("12", "3", "p", "k", "s", "o") != record_id("1", "23", "p", "k", "s", "o")
    assert record_id("1", "2", "p", "k", "s", "o") != record_id("1", "2", "p", "k", "so", "default")


def test_record_id_is_the_blake2b_128_of_the_key_joined_by_unit_separators() -> None:
    # Stored rows are keyed by it: a change here splits every record from its history.
    # The default organisation's ids are those of the key without an owner (records that
    # predate owners keep theirs); another owner follows a record separator.
    key = b"BW-1\x1fF0\x1f2024-01\x1fmonth\x1fsrc"
    expected = hashlib.blake2b(key, digest_size=16).hexdigest()
    assert record_id("BW-1", "F0", "2024-01", "month", "src", "default") == expected
    assert expected == "3311eaa3e543454f5c07448d65f9296e"
    owned = hashlib.blake2b(key + b"\x1eacme", digest_size=16).hexdigest()
    assert record_id("BW-1", "F0", "2024-01", "month", "src", "acme") == owned


def test_version_orders_by_revision_then_accepted_time() -> None:
    early, late = 1_700_000_000_000, 1_800_000_000_000
    assert version(0, early) < version(0, late) < version(1, early) < version(2, 0)
    assert version(MAX_REVISION, 2**42 - 1) < 2**64
