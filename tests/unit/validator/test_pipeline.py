"""process_batch: raw messages to canonical records or dead letters, nothing lost."""

import json
from typing import Any

import orjson
import pytest
from aiokafka import ConsumerRecord

from contracts import CanonicalRecord, ErrorCode
from contracts.records import OriginalValue, decode_canonical
from contracts.topics import HEADER_ACCEPTED_AT, HEADER_CORRELATION_ID
from tests.unit.validator.conftest import ACCEPTED_MS, DROP, NOW, good, message
from validator.enrich import WellRef
from validator.handlers import to_raw
from validator.pipeline import LAST_ACCEPTED_MS, Processed, RawMessage, process_batch, wells_of
from validator.rules import Flag, Policy

POLICY = Policy()


def run(*messages: RawMessage, policy: Policy = POLICY) -> Processed:
    return process_batch(messages, policy, None, NOW)


def only_record(body: dict[str, Any] | bytes) -> CanonicalRecord:
    result = run(message(body))
    assert not result.rejected, result.rejected
    (item,) = result.normalized
    return decode_canonical(item.body)


def error_codes(body: dict[str, Any] | bytes, policy: Policy = POLICY) -> set[str]:
    result = run(message(body), policy=policy)
    assert not result.normalized
    (rejection,) = result.rejected
    return {error.code for error in rejection.dead_letter.errors}


def test_a_rates_record_becomes_canonical_totals() -> None:
    record = only_record(good())
    assert record.well_code == "1234"
    assert record.field_code == "77"
    assert (record.period, record.period_type, record.days_in_period) == ("2024-01", "month", 31)
    assert record.oil_bbl == pytest.approx(1.5 * 31 * 1000)
    assert record.gas_mcf == pytest.approx(2.0 * 31 * 1000)
    assert record.water_bbl == pytest.approx(0.5 * 31 * 1000)
    assert record.liquids_bbl is None, "absent stays null, never 0"
    assert record.boe == pytest.approx(46_500 + 62_000 / 6)
    assert record.water_cut == pytest.approx(0.25)
    assert record.gor == pytest.approx(62_000 * 1000 / 46_500)
    assert record.flags == []
    assert record.extra == {"source_data": "anp-2024-01.csv"}


def test_lineage_and_version_come_from_the_raw_message() -> None:
    result = run(message(good(revision=3), offset=42, partition=2, topic="raw"))
    record = decode_canonical(result.normalized[0].body)
    assert (record.source_topic, record.source_partition, record.source_offset) == ("raw", 2, 42)
    assert int(record.ingested_at.timestamp() * 1000) == ACCEPTED_MS
    assert record.version == (3 << 42) | ACCEPTED_MS
    assert record.normalized_at == NOW
    assert result.normalized[0].key == "1234"


def test_reprocessing_a_message_yields_the_same_record_id_and_version() -> None:
    first = run(message(good()), message(good()))
    ids = {orjson.loads(item.body)["record_id"] for item in first.normalized}
    versions = {orjson.loads(item.body)["version"] for item in first.normalized}
    assert len(ids) == 1
    assert len(versions) == 1


def test_volumes_with_units_become_canonical_and_keep_the_original() -> None:
    volumes = {
        "oil": {"value": "812.5", "unit": "Sm3"},
        "gas": {"value": 1.2e5, "unit": "Sm3"},
        "water": None,
    }
    record = only_record(good(volumes=volumes, oil_production_kbd=DROP, water_production_kbd=DROP))
    assert record.oil_bbl == pytest.approx(812.5 * 6.289811)
    assert record.gas_mcf == pytest.approx(1.2e5 * 35.3147 / 1000)
    assert record.oil_production_kbd == pytest.approx(812.5 * 6.289811 / 31 / 1000)
    assert record.water_bbl is None
    assert record.original_values["oil"] == OriginalValue(812.5, "Sm3")


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        pytest.param({"oil_production_kbd": "1.5"}, "oil_bbl", 46_500.0, id="number-as-string"),
        pytest.param({"oil_production_kbd": ""}, "oil_bbl", None, id="blank-is-null"),
        pytest.param({"oil_production_kbd": " "}, "oil_bbl", None, id="spaces-are-null"),
        pytest.param({"well_code": "MRL-123D"}, "well_code", "MRL-123D", id="string-well-code"),
        pytest.param(
            {"production_period": "2024-01-05", "days_on_production": 1},
            "period_type",
            "day",
            id="day-period",
        ),
        pytest.param(
            {"production_period": "2024-01-05T00:00:00Z", "days_on_production": 1},
            "period",
            "2024-01-05",
            id="midnight",
        ),
        pytest.param({"data_source": None}, "data_source", "unknown", id="default-source"),
        pytest.param({"revision": "2"}, "revision", 2, id="revision-as-string"),
        pytest.param({"field_code": DROP}, "field_code", "", id="no-field"),
    ],
)
def test_the_raw_contract_is_accepted(changes: dict[str, Any], field: str, expected: Any) -> None:
    record = only_record(good(**changes))
    assert getattr(record, field) == expected


@pytest.mark.parametrize(
    ("body", "codes"),
    [
        pytest.param(b'{"well_code": 1', {ErrorCode.UNPARSEABLE_JSON}, id="unparseable-json"),
        pytest.param(b"[1, 2]", {ErrorCode.NOT_AN_OBJECT}, id="array"),
        pytest.param(b'"text"', {ErrorCode.NOT_AN_OBJECT}, id="string"),
        pytest.param(good(well_code=DROP), {ErrorCode.MISSING_FIELD}, id="missing-well-code"),
        pytest.param(good(production_period=DROP), {ErrorCode.MISSING_FIELD}, id="missing-period"),
        pytest.param(good(production_period="2024-13"), {ErrorCode.INVALID_PERIOD}, id="month-13"),
        pytest.param(good(production_period="2024"), {ErrorCode.INVALID_PERIOD}, id="year-only"),
        pytest.param(
            good(volumes={"oil": {"value": 1, "unit": "barrels"}}),
            {ErrorCode.UNKNOWN_UNIT},
            id="unknown-unit",
        ),
        pytest.param(
            good(volumes={"gas": {"value": 1, "unit": "bbl"}}),
            {ErrorCode.UNKNOWN_UNIT},
            id="unit-misfit",
        ),
        pytest.param(
            good(production_period="2031-01"), {ErrorCode.FUTURE_PERIOD}, id="future-period"
        ),
        pytest.param(
            good(oil_production_kbd=5_000), {ErrorCode.RATE_CEILING_EXCEEDED}, id="rate-ceiling"
        ),
        pytest.param(
            good(days_on_production=40), {ErrorCode.PRODUCING_TIME_EXCEEDED}, id="days-far-over"
        ),
        pytest.param(good(oil_production_kbd="lots"), {ErrorCode.INVALID_VALUE}, id="not-a-number"),
        pytest.param(good(oil_production_kbd="NaN"), {ErrorCode.INVALID_VALUE}, id="nan"),
        pytest.param(good(well_code="  "), {ErrorCode.INVALID_VALUE}, id="blank-well-code"),
        pytest.param(good(days_on_production=-1), {ErrorCode.INVALID_VALUE}, id="negative-days"),
        pytest.param(good(revision=-1), {ErrorCode.INVALID_VALUE}, id="negative-revision"),
    ],
)
def test_broken_records_are_rejected_with_the_right_code(
    body: dict[str, Any] | bytes, codes: set[str]
) -> None:
    assert error_codes(body) == codes


def test_every_finding_is_collected_not_just_the_first() -> None:
    body = good(
        production_period="2031-01",
        oil_production_kbd=5_000,
        volumes={"gas": {"value": 1, "unit": "furlongs"}},
    )
    assert error_codes(body) == {
        ErrorCode.FUTURE_PERIOD,
        ErrorCode.RATE_CEILING_EXCEEDED,
        ErrorCode.UNKNOWN_UNIT,
    }


def test_findings_are_collected_even_when_a_field_cannot_be_read() -> None:
    body = good(
        oil_production_kbd="lots",
        production_period="2024-13",
        volumes={"gas": {"value": 1, "unit": "furlongs"}},
    )
    assert error_codes(body) == {
        ErrorCode.INVALID_VALUE,
        ErrorCode.INVALID_PERIOD,
        ErrorCode.UNKNOWN_UNIT,
    }


def test_a_dead_letter_carries_the_original_bytes_source_and_stage() -> None:
    result = run(message(b"\xff\xfe not json", offset=9, topic="raw", partition=1))
    letter = result.rejected[0].dead_letter
    assert letter.stage == "validator"
    assert letter.source is not None
    assert (letter.source.topic, letter.source.partition, letter.source.offset) == ("raw", 1, 9)
    assert letter.original_bytes() == b"\xff\xfe not json"
    assert letter.payload is None, "bytes that are not UTF-8 travel as base64"


def test_a_mixed_batch_loses_nothing() -> None:
    bodies: list[dict[str, Any] | bytes] = [good(well_code=n) for n in range(50)]
    bodies += [b"nope", good(production_period="2024-13"), good(oil_production_kbd=-0.1)]
    result = run(*(message(body, offset=i) for i, body in enumerate(bodies)))
    offsets = [orjson.loads(n.body)["source_offset"] for n in result.normalized]
    offsets += [r.dead_letter.source.offset for r in result.rejected if r.dead_letter.source]
    assert sorted(offsets) == list(range(len(bodies)))
    assert len(result.rejected) == 2


Headers = list[tuple[str, bytes | None]]


def consumer_record(headers: Headers, timestamp: int) -> Any:
    return ConsumerRecord("raw", 2, 9, timestamp, 0, b"k", b"{}", None, 0, 2, headers)


@pytest.mark.parametrize(
    ("headers", "timestamp", "expected"),
    [
        pytest.param([(HEADER_ACCEPTED_AT, b"1700000000123")], 5, 1_700_000_000_123, id="header"),
        pytest.param([], 1_700_000_000_999, 1_700_000_000_999, id="kafka-timestamp"),
        pytest.param([(HEADER_ACCEPTED_AT, b"soon")], 7, 7, id="bad-header"),
        pytest.param([(HEADER_ACCEPTED_AT, None)], 7, 7, id="null-header"),
        pytest.param([(HEADER_ACCEPTED_AT, b"\xff1")], 7, 7, id="binary-header"),
        pytest.param([(HEADER_ACCEPTED_AT, b"-5")], 7, 7, id="header-before-the-epoch"),
        pytest.param([(HEADER_ACCEPTED_AT, b"10" * 8)], 7, 7, id="header-after-2109"),
        pytest.param([], -1, 0, id="no-kafka-timestamp"),
        pytest.param([], 10**15, LAST_ACCEPTED_MS, id="kafka-timestamp-after-2109"),
    ],
)
def test_accepted_ms(headers: Headers, timestamp: int, expected: int) -> None:
    assert to_raw(consumer_record(headers, timestamp)).accepted_ms == expected


def test_a_consumer_record_keeps_its_lineage_and_correlation_id() -> None:
    headers = [("trace", b"\xff\xfe"), (HEADER_CORRELATION_ID, b"req-1"), ("schema", None)]
    raw = to_raw(consumer_record(headers, 1_700_000_000_000))
    assert raw == RawMessage(b"{}", "raw", 2, 9, 1_700_000_000_000, b"k", "req-1")


def test_wells_of_a_batch_are_canonical_and_skip_what_cannot_be_read() -> None:
    batch = [message(good(well_code=" mrl-0123d")), message(good(well_code=77)), message(b"{")]
    batch += [message(b"[1]"), message(good(well_code=True)), message(good(well_code=DROP))]
    assert wells_of(batch) == {"MRL-123D", "77"}


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b"\xef\xbb\xbf" + orjson.dumps(good()), id="byte-order-mark"),
        pytest.param(
            orjson.dumps(good(well_name="Mar\xedlia")).decode().encode("latin-1"), id="latin-1"
        ),
        pytest.param(json.dumps(good(well_code=2**64)).encode(), id="code-beyond-64-bits"),
    ],
)
def test_a_known_well_read_the_long_way_is_still_enriched(value: bytes) -> None:
    """Its reference data is fetched like any other's (``wells_of``), not called unknown."""
    known = {
        "1234": WellRef(well_code="1234", operator="Petrobras"),
        "1.8446744073709552E+19": WellRef(
            well_code="2**64, as JSON parsers read it", operator="Petrobras"
        ),
    }
    batch = [message(value)]
    reference = {well: known.get(well) for well in wells_of(batch)}
    (item,) = process_batch(batch, POLICY, reference, NOW).normalized
    record = decode_canonical(item.body)
    assert (record.operator, Flag.UNKNOWN_WELL in record.flags) == ("Petrobras", False)


def test_flags_are_counted_over_both_paths() -> None:
    reference = {"1234": WellRef(well_code="1234")}
    batch = [
        message(good(), offset=0),  # clean: fast path, no flag
        message(good(well_code="01234", production_period="2024-03"), offset=1),  # padded
        message(good(well_code="0999"), offset=2),  # padded and unknown
        message(good(well_code="999", production_period="2024-03"), offset=3),  # unknown
        message(good(days_on_production=0, production_period="2024-05"), offset=4),  # full path
    ]
    result = process_batch(batch, POLICY, reference, NOW)
    assert not result.rejected
    assert result.flags == {
        Flag.IDENTIFIER_NORMALIZED: 2,
        Flag.UNKNOWN_WELL: 2,
        Flag.VOLUME_WITHOUT_PRODUCING_TIME: 1,
    }
