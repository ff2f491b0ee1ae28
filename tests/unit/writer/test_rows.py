"""Messages to rows: canonical records carried as JSON with their lineage, everything
else a dead letter with the reason, per-partition chunks and deduplication tokens."""

from typing import Any

import msgspec
import orjson
import pytest
from aiokafka import ConsumerRecord

from contracts import CanonicalRecord
from wellstream.chaos import data as chaos
from writer import rows


def message(body: bytes, offset: int = 0, topic: str = "t", partition: int = 1) -> ConsumerRecord:
    return ConsumerRecord(topic, partition, offset, b"k", 0, b"k", body, None, 0, len(body), ())


def canonical(i: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(chaos.body(i, "w"))
    return body


def test_the_columns_are_the_contract_fields_then_the_lineage() -> None:
    assert (
        *CanonicalRecord.__struct_fields__,
        "kafka_topic",
        "kafka_partition",
        "kafka_offset",
    ) == rows.HISTORY_COLUMNS
    assert len(rows.HISTORY_COLUMNS) == len(set(rows.HISTORY_COLUMNS))


def test_a_chunk_of_canonical_records_becomes_json_rows_with_lineage() -> None:
    chunk = [message(chaos.body(i, "w"), 40 + i) for i in (0, 1)]

    prepared = rows.prepare(chunk)

    assert prepared.letters == []
    assert prepared.rows is not None
    lines = [orjson.loads(line) for line in prepared.rows.body.splitlines()]
    assert [(r["record_id"], r["kafka_offset"]) for r in lines] == [("w:0", 40), ("w:1", 41)]
    assert {(r["kafka_topic"], r["kafka_partition"]) for r in lines} == {("t", 1)}
    assert lines[0] == canonical(0) | {"kafka_topic": "t", "kafka_partition": 1, "kafka_offset": 40}
    assert (len(prepared.rows), prepared.rows.token) == (2, "t/1/40-41")
    assert (prepared.rows.wells, prepared.rows.fields) == (
        frozenset({"w-0", "w-1"}),
        frozenset({"F1"}),
    )


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(orjson.dumps(canonical() | {"added_in_v2": {"x": 1}}), id="unknown-field"),
        pytest.param(orjson.dumps(canonical()) + b" \n", id="trailing-space"),
        pytest.param(orjson.dumps(canonical() | {"version": 2**63 - 1}), id="largest-version"),
        pytest.param(
            orjson.dumps(canonical() | {"ingested_at": "2024-01-01T02:00:00+02:00"}), id="offset"
        ),
    ],
)
def test_what_a_row_accepts(body: bytes) -> None:
    prepared = rows.prepare([message(body)])

    assert prepared.letters == []
    assert prepared.rows is not None
    assert orjson.loads(prepared.rows.body)["kafka_offset"] == 0


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        pytest.param({"data_source": None}, "invalid_value", "data_source", id="null-in-a-string"),
        pytest.param({"version": "3"}, "invalid_value", "version", id="number-as-string"),
        pytest.param({"version": -1}, "invalid_value", "version", id="negative-version"),
        pytest.param({"days_in_period": 70_000}, "invalid_value", "days_in_period", id="uint16"),
        pytest.param({"days_in_period": 1.0}, "invalid_value", "days_in_period", id="float-int"),
        pytest.param({"period_type": "week"}, "invalid_value", "period_type", id="period-type"),
        pytest.param({"period_start": "1850-01-01"}, "invalid_value", None, id="beyond-date32"),
        pytest.param(
            {"ingested_at": "2024-01-01T00:00:00"}, "invalid_value", "ingested_at", id="naive"
        ),
        pytest.param({"oil_bbl": True}, "invalid_value", "oil_bbl", id="bool-for-float"),
        pytest.param(
            {"original_values": {"oil": 5}}, "invalid_value", "original_values", id="original"
        ),
        pytest.param({"kafka_offset": 7}, "invalid_value", "kafka_offset", id="lineage-column"),
    ],
)
def test_a_message_that_is_not_a_record_is_a_dead_letter_and_the_rest_rows(
    changes: dict[str, Any], code: str, field: str | None
) -> None:
    good = message(orjson.dumps(canonical()), offset=0)
    odd = message(orjson.dumps(canonical(1) | changes), offset=1)
    last = message(orjson.dumps(canonical(2)), offset=2)

    prepared = rows.prepare([good, odd, last])

    assert prepared.rows is not None
    assert [m.offset for m in prepared.rows.messages] == [0, 2]
    assert prepared.rows.token == "t/1/0-2"
    ((letter, key, _),) = prepared.letters
    assert (letter.source, key) == (odd_source(1), b"k")
    assert [(e.code, e.field) for e in letter.errors] == [(code, field)]
    assert letter.payload == odd.value.decode()


def odd_source(offset: int) -> Any:
    from contracts import KafkaSource

    return KafkaSource(topic="t", partition=1, offset=offset)


@pytest.mark.parametrize(
    ("body", "codes"),
    [
        pytest.param(b"{not json", ["unparseable_json"], id="not-json"),
        pytest.param(b"", ["unparseable_json"], id="empty"),
        pytest.param(b"[]", ["invalid_value"], id="array"),
        pytest.param(b'{"record_id": "x"}', ["missing_field"], id="missing-fields"),
        pytest.param(
            orjson.dumps({k: v for k, v in canonical().items() if k != "revision"}),
            ["missing_field"],
            id="missing-field-once-defaulted",
        ),
    ],
)
def test_malformed_messages_are_dead_letters_with_the_reason(body: bytes, codes: list[str]) -> None:
    prepared = rows.prepare([message(body, offset=3)])

    assert prepared.rows is None
    ((letter, _, _),) = prepared.letters
    assert [e.code for e in letter.errors] == codes
    assert letter.errors[0].message
    assert letter.source is not None
    assert letter.source.offset == 3


def test_a_missing_field_is_named() -> None:
    body = orjson.dumps({k: v for k, v in canonical().items() if k != "revision"})

    error = rows.why_not(body)

    assert not isinstance(error, CanonicalRecord)
    assert (error.code, error.field) == ("missing_field", "revision")


def test_a_record_reads_alike_and_ignores_unknown_fields() -> None:
    body = canonical() | {"added_in_v2": 1}

    decoded = rows.why_not(orjson.dumps(body))

    assert isinstance(decoded, CanonicalRecord)
    fields = {name: getattr(decoded, name) for name in CanonicalRecord.__struct_fields__}
    assert fields == msgspec.structs.asdict(chaos.canonical(0, "w"))


def test_the_token_of_what_is_left_is_the_same_on_every_replay() -> None:
    batch = [message(chaos.body(i, "w"), i) for i in range(6)]
    batch[0] = message(b"{not json", 0)
    batch[5] = message(b"{not json", 5)

    once, again = rows.prepare(batch), rows.prepare(list(batch))
    cut_tighter = rows.prepare(batch[1:5])

    assert once.rows is not None
    assert again.rows is not None
    assert cut_tighter.rows is not None
    assert once.rows.token == again.rows.token == cut_tighter.rows.token == "t/1/1-4"
    assert once.rows.body == cut_tighter.rows.body


def test_a_split_keeps_every_row_once_with_narrower_tokens() -> None:
    prepared = rows.prepare([message(chaos.body(i, "w"), 10 + i, partition=3) for i in range(5)])
    assert prepared.rows is not None

    left, right = prepared.rows.split()

    assert (left.token, right.token) == ("t/3/10-11", "t/3/12-14")
    assert left.body + right.body == prepared.rows.body


def test_an_empty_chunk_has_no_rows() -> None:
    assert rows.prepare([]) == rows.Chunk(None, [])


def _msg(partition: int, offset: int) -> ConsumerRecord:
    return ConsumerRecord("t", partition, offset, 0, 0, None, b"{}", None, 0, 2, ())


def test_chunks_are_per_partition_and_cut_at_multiples_of_the_size() -> None:
    batch = [_msg(0, 8), _msg(1, 3), _msg(0, 9), _msg(0, 10), _msg(0, 12), _msg(0, 25)]

    got = [[(m.partition, m.offset) for m in c] for c in rows.chunks(batch, 10)]

    assert got == [[(0, 8), (0, 9)], [(0, 10), (0, 12)], [(0, 25)], [(1, 3)]]


def test_chunks_refuse_offsets_out_of_order() -> None:
    with pytest.raises(ValueError, match="out of order"):
        rows.chunks([_msg(0, 5), _msg(0, 5)], 10)


def test_a_message_whose_decoding_fails_unexpectedly_is_a_dead_letter_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No message may stop its partition: whatever makes decoding raise, the message it
    raises on becomes a dead letter with the reason, and the others are still stored."""
    poison = orjson.dumps(canonical(1))
    real = rows._decode

    def decode(value: bytes) -> Any:
        if value == poison:
            raise RecursionError("maximum recursion depth exceeded")
        return real(value)

    monkeypatch.setattr(rows, "_decode", decode)
    good, odd = message(orjson.dumps(canonical()), offset=0), message(poison, offset=1)

    prepared = rows.prepare([good, odd])

    assert prepared.rows is not None
    assert [m.offset for m in prepared.rows.messages] == [0]
    ((letter, _, _),) = prepared.letters
    assert [e.code for e in letter.errors] == ["processing_failed"]
    assert "RecursionError" in letter.errors[0].message
    assert letter.source == odd_source(1)
