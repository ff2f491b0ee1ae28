"""Odd but real records are kept and flagged; what cannot be interpreted is rejected."""

from typing import Any

import orjson
import pytest

from contracts import CanonicalRecord, ErrorCode
from contracts.records import decode_canonical
from tests.unit.validator.conftest import DROP, NOW, good, message
from validator.pipeline import process_batch
from validator.rules import Flag, Policy

POLICY = Policy()


def kept(*bodies: dict[str, Any] | bytes) -> list[CanonicalRecord]:
    result = process_batch([message(b, offset=i) for i, b in enumerate(bodies)], POLICY, None, NOW)
    assert not result.rejected, [r.dead_letter.errors for r in result.rejected]
    return [decode_canonical(n.body) for n in result.normalized]


@pytest.mark.parametrize(
    ("body", "flag"),
    [
        pytest.param(
            good(oil_production_kbd=-0.25),
            Flag.NEGATIVE_VOLUME,
            id="negative-allocation-correction",
        ),
        pytest.param(
            good(volumes={"water": {"value": -120, "unit": "m3"}}),
            Flag.NEGATIVE_VOLUME,
            id="negative-volume-with-unit",
        ),
        pytest.param(
            good(production_period="2024-03-31", days_on_production=25 / 24),
            Flag.PRODUCING_TIME_OVER_PERIOD,
            id="25-hour-daylight-saving-day",
        ),
        pytest.param(
            good(days_on_production=0), Flag.VOLUME_WITHOUT_PRODUCING_TIME, id="volume-zero-time"
        ),
        pytest.param(
            good(
                oil_production_kbd=DROP,
                gas_production_mmcfd=DROP,
                water_production_kbd="",
                volumes={"oil": None, "water": {"value": "", "unit": "m3"}},
            ),
            Flag.NO_VOLUMES,
            id="injection-row-empty-volumes",
        ),
        pytest.param(good(well_code=" mrl 0123d "), Flag.IDENTIFIER_NORMALIZED, id="spaced-code"),
        pytest.param(good(well_code="001234"), Flag.IDENTIFIER_NORMALIZED, id="zero-padded-code"),
        pytest.param(good(field_code="077"), Flag.IDENTIFIER_NORMALIZED, id="zero-padded-field"),
        pytest.param(
            good(volumes={"condensate": {"value": 5, "unit": "bbl"}}),
            Flag.UNKNOWN_VOLUME_STREAM,
            id="unknown-volume-stream",
        ),
    ],
)
def test_odd_but_real_is_kept_and_flagged(body: dict[str, Any], flag: str) -> None:
    (record,) = kept(body)
    assert flag in record.flags


def test_an_injection_row_keeps_nulls_never_zero() -> None:
    body = good(oil_production_kbd=None, gas_production_mmcfd="", water_production_kbd=DROP)
    (record,) = kept(body)
    assert (record.oil_bbl, record.gas_mcf, record.water_bbl, record.liquids_bbl) == (None,) * 4
    assert (record.boe, record.water_cut, record.gor) == (None, None, None)


def test_identifiers_differing_in_spacing_or_padding_share_one_record_id() -> None:
    a, b, c = kept(good(well_code="7-MRL-123D"), good(well_code="7-mrl- 0123d"), good())
    assert a.record_id == b.record_id != c.record_id
    assert (a.well_code, b.well_code) == ("7-MRL-123D", "7-MRL-123D")
    assert b.well_code_raw == "7-mrl- 0123d", "the original identifier is kept"
    assert Flag.IDENTIFIER_NORMALIZED not in a.flags


SAME_MONTH = good(days_on_production=31)


@pytest.mark.parametrize(
    ("bodies", "split"),
    [
        pytest.param(
            [SAME_MONTH | {"field_code": "A"}, SAME_MONTH | {"field_code": "B"}, good(well_code=9)],
            [True, True, False],
            id="two-fields-one-month",
        ),
        pytest.param(
            [SAME_MONTH | {"field_code": "A"}, SAME_MONTH | {"field_code": "A", "revision": 2}],
            [False, False],
            id="a-restatement-in-the-same-batch-is-no-split",
        ),
        pytest.param(
            [SAME_MONTH | {"field_code": "A"}, SAME_MONTH | {"field_code": "B", "note": "x"}],
            [True, True],
            id="one-clean-record-one-with-an-unknown-field",
        ),
        pytest.param(
            [
                SAME_MONTH | {"field_code": "A"},
                SAME_MONTH | {"field_code": "A", "data_source": "x"},
            ],
            [False, False],
            id="another-source-is-another-report",
        ),
    ],
)
def test_a_well_split_across_fields_keeps_every_record_and_flags_them(
    bodies: list[dict[str, Any]], split: list[bool]
) -> None:
    records = kept(*bodies)
    assert [Flag.SPLIT_ACROSS_FIELDS in r.flags for r in records] == split
    assert all(r.days_on_production == 31 for r in records[:2]), "each keeps the well's time"


def test_latin1_and_byte_order_mark_are_read() -> None:
    latin1 = orjson.dumps(good(well_name="São Mateus")).decode().encode("latin-1")
    bom = b"\xef\xbb\xbf" + orjson.dumps(good(well_code="BOM-1"))
    decoded, marked = kept(latin1, bom)
    assert decoded.well_name == "São Mateus"
    assert Flag.LATIN1_DECODED in decoded.flags
    assert marked.well_code == "BOM-1"


def test_unknown_fields_are_kept_verbatim() -> None:
    (record,) = kept(good(partition_0="2024", notes={"by": "ops", "n": [1, 2]}))
    assert record.extra == {
        "source_data": "anp-2024-01.csv",
        "partition_0": "2024",
        "notes": {"by": "ops", "n": [1, 2]},
    }


@pytest.mark.parametrize(
    ("days_on", "outcome"),
    [
        pytest.param(31, "clean", id="whole-month"),
        pytest.param(33, Flag.PRODUCING_TIME_OVER_PERIOD, id="over-within-tolerance"),
        pytest.param(31 * 1.25, Flag.PRODUCING_TIME_OVER_PERIOD, id="at-tolerance"),
        pytest.param(31 * 1.25 + 0.01, ErrorCode.PRODUCING_TIME_EXCEEDED, id="beyond-tolerance"),
    ],
)
def test_producing_time_over_the_period(days_on: float, outcome: str) -> None:
    result = process_batch([message(good(days_on_production=days_on))], POLICY, None, NOW)
    if outcome == ErrorCode.PRODUCING_TIME_EXCEEDED:
        assert [e.code for e in result.rejected[0].dead_letter.errors] == [outcome]
        return
    record = decode_canonical(result.normalized[0].body)
    assert record.flags == ([] if outcome == "clean" else [outcome])
