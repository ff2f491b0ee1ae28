"""Canonical records to columns, per-partition slices and deduplication tokens."""

from datetime import date

import orjson
import pytest
from aiokafka import ConsumerRecord

from contracts import CanonicalRecord, OriginalValue
from wellstream.chaos import data as chaos
from writer import sink


def record(i: int = 0, **changes: object) -> CanonicalRecord:
    return chaos.canonical(i, "w").model_copy(update=changes)


def test_columns_follow_the_column_list_and_carry_the_kafka_lineage() -> None:
    part = sink.Slice("t", 2, [record(0), record(1)], [40, 41])

    columns = dict(zip(sink.HISTORY_COLUMNS, sink.to_columns(part), strict=True))

    assert columns["record_id"] == ["w:0", "w:1"]
    assert columns["period_start"] == [date(2000, 1, 1)] * 2
    assert columns["kafka_topic"] == ["t", "t"]
    assert columns["kafka_partition"] == [2, 2]
    assert columns["kafka_offset"] == [40, 41]
    assert len(sink.HISTORY_COLUMNS) == len(set(sink.HISTORY_COLUMNS))


@pytest.mark.parametrize(
    ("changes", "column", "expected"),
    [
        pytest.param({}, "original_values", "{}", id="no-originals"),
        pytest.param(
            {"original_values": {"oil": OriginalValue(value=1.5, unit="Sm3")}},
            "original_values",
            {"oil": {"value": 1.5, "unit": "Sm3"}},
            id="originals-as-json",
        ),
        pytest.param({"extra": {"partition_0": "x"}}, "extra", {"partition_0": "x"}, id="extra"),
        pytest.param({"oil_bbl": None}, "oil_bbl", None, id="null-stays-null"),
        pytest.param({"flags": ["negative_volume"]}, "flags", ["negative_volume"], id="flags"),
    ],
)
def test_column_values(changes: dict[str, object], column: str, expected: object) -> None:
    part = sink.Slice("t", 0, [record().model_copy(update=changes)], [0])

    (value,) = dict(zip(sink.HISTORY_COLUMNS, sink.to_columns(part), strict=True))[column]

    if column in ("original_values", "extra") and expected != "{}":
        value = orjson.loads(value)
    assert value == expected


def test_a_split_slice_keeps_every_row_once_with_narrower_tokens() -> None:
    part = sink.Slice("t", 3, [record(i) for i in range(5)], [10, 11, 12, 13, 14])

    left, right = part.split()

    assert (left.token, right.token) == ("t/3/10-11", "t/3/12-14")
    assert left.records + right.records == part.records


@pytest.mark.parametrize(
    ("value", "codes"),
    [
        pytest.param(b"{nope", ["unparseable_json"], id="not-json"),
        pytest.param(b"", ["unparseable_json"], id="empty"),
        pytest.param(b'{"record_id": "x"}', {"missing_field"}, id="missing-fields"),
        pytest.param(
            record().model_dump_json().replace('"day"', '"week"').encode(),
            ["invalid_value"],
            id="bad-period-type",
        ),
    ],
)
def test_parse_reports_why_a_message_is_not_a_record(value: bytes, codes: object) -> None:
    result = sink.parse(value)

    assert isinstance(result, list)
    found = [e.code for e in result]
    assert (set(found) if isinstance(codes, set) else found) == codes


def test_parse_reads_a_record_and_ignores_unknown_fields() -> None:
    body = orjson.loads(record().model_dump_json()) | {"added_in_v2": 1}

    assert sink.parse(orjson.dumps(body)) == record()


def test_records_without_kafka_form_one_slice_in_list_order() -> None:
    (part,) = sink.offset_slices([record(0), record(1)])

    assert (part.partition, part.offsets) == (-1, [0, 1])
    assert sink.offset_slices([]) == []


def _msg(partition: int, offset: int) -> ConsumerRecord:
    return ConsumerRecord("t", partition, offset, 0, 0, None, b"{}", None, 0, 2, ())


def test_chunks_are_per_partition_and_cut_at_multiples_of_the_size() -> None:
    batch = [_msg(0, 8), _msg(1, 3), _msg(0, 9), _msg(0, 10), _msg(0, 12), _msg(0, 25)]

    got = [[(m.partition, m.offset) for m in c] for c in sink.chunks(batch, 10)]

    assert got == [[(0, 8), (0, 9)], [(0, 10), (0, 12)], [(0, 25)], [(1, 3)]]


def test_chunks_refuse_offsets_out_of_order() -> None:
    with pytest.raises(ValueError, match="out of order"):
        sink.chunks([_msg(0, 5), _msg(0, 5)], 10)
