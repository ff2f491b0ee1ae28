"""The fast path takes only strictly canonical records, and carries their lineage."""

from typing import Any

import orjson
import pytest
from aiokafka import ConsumerRecord

from wellstream.chaos import data as chaos
from writer import fastpath


def message(body: bytes, offset: int = 0, topic: str = "t", partition: int = 1) -> ConsumerRecord:
    return ConsumerRecord(topic, partition, offset, 0, 0, None, body, None, 0, len(body), ())


def canonical(i: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(chaos.canonical(i, "w").model_dump_json())
    return body


def test_a_chunk_of_canonical_records_becomes_json_rows_with_lineage() -> None:
    chunk = [message(chaos.canonical(i, "w").model_dump_json().encode(), 40 + i) for i in (0, 1)]

    rows = fastpath.prepare(chunk)

    assert rows is not None
    lines = [orjson.loads(line) for line in rows.body.splitlines()]
    assert [(r["record_id"], r["kafka_offset"]) for r in lines] == [("w:0", 40), ("w:1", 41)]
    assert {(r["kafka_topic"], r["kafka_partition"]) for r in lines} == {("t", 1)}
    assert lines[0] == canonical(0) | {"kafka_topic": "t", "kafka_partition": 1, "kafka_offset": 40}
    assert (rows.count, rows.token) == (2, "t/1/40-41")
    assert (rows.wells, rows.fields) == (frozenset({"w-0", "w-1"}), frozenset({"F1"}))


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
def test_what_the_fast_path_accepts(body: bytes) -> None:
    rows = fastpath.prepare([message(body)])

    assert rows is not None
    assert orjson.loads(rows.body)["kafka_offset"] == 0


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"data_source": None}, id="null-in-a-required-string"),
        pytest.param({"version": "3"}, id="number-as-string"),
        pytest.param({"version": -1}, id="negative-version"),
        pytest.param({"days_in_period": 70_000}, id="beyond-uint16"),
        pytest.param({"days_in_period": 1.0}, id="float-for-int"),
        pytest.param({"period_type": "week"}, id="unknown-period-type"),
        pytest.param({"period_start": "1850-01-01"}, id="date-beyond-date32"),
        pytest.param({"ingested_at": "2024-01-01T00:00:00"}, id="naive-time"),
        pytest.param({"oil_bbl": True}, id="bool-for-float"),
        pytest.param({"original_values": {"oil": 5}}, id="bad-original-value"),
        pytest.param({"kafka_offset": 7}, id="lineage-column-in-message"),
    ],
)
def test_anything_else_goes_to_the_model_path(changes: dict[str, Any]) -> None:
    good = message(orjson.dumps(canonical()))
    odd = message(orjson.dumps(canonical(1) | changes), offset=1)

    assert fastpath.prepare([good, odd]) is None


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{not json", id="not-json"),
        pytest.param(b"", id="empty"),
        pytest.param(b"[]", id="array"),
        pytest.param(
            orjson.dumps({k: v for k, v in canonical().items() if k != "revision"}),
            id="missing-field-with-a-default",
        ),
    ],
)
def test_malformed_messages_go_to_the_model_path(body: bytes) -> None:
    assert fastpath.prepare([message(body)]) is None


def test_an_empty_chunk_has_no_rows() -> None:
    assert fastpath.prepare([]) is None
