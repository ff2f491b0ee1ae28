"""Inserts: one deduplicated JSON insert per chunk, dead letters for what is not a
record, and the split that isolates a row ClickHouse rejects."""

from typing import Any, cast

import orjson
import pytest
from aiokafka import ConsumerRecord
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

from runtime.clickhouse import ClickHouse
from wellstream.chaos import data as chaos
from writer import deadletters, rows
from writer.inserts import Inserts, is_rejection

REFUSED = "refused"


class FakeClickHouse:
    """Keeps the rows of JSON inserts with their tokens; refuses a block holding a row
    whose data source is ``REFUSED``, as ClickHouse refuses a row it cannot parse."""

    def __init__(self, fail_with: BaseException | None = None) -> None:
        self.rows: list[dict[str, Any]] = []
        self.tokens: list[str] = []
        self.columns: list[tuple[str, list[list[Any]], str]] = []
        self.fail_with = fail_with

    async def insert_raw(
        self, table: str, data: bytes, fmt: str, settings: dict[str, Any] | None = None
    ) -> None:
        assert (table, fmt) == ("production_history", "JSONEachRow")
        assert settings is not None
        assert settings["input_format_skip_unknown_fields"] == 1
        assert settings["deduplicate_blocks_in_dependent_materialized_views"] == 1
        assert settings["optimize_on_insert"] == 0
        if self.fail_with is not None:
            raise self.fail_with
        block = [orjson.loads(line) for line in data.splitlines()]
        if any(row["data_source"] == REFUSED for row in block):
            raise DatabaseError(
                "Code: 27. Cannot parse input (CANNOT_PARSE_INPUT_ASSERTION_FAILED)"
            )
        self.rows += block
        self.tokens.append(settings["insert_deduplication_token"])

    async def insert(
        self, table: str, columns: list[list[Any]], names: Any, settings: Any = None
    ) -> None:
        self.columns.append((table, columns, settings["insert_deduplication_token"]))


def consumed(bodies: list[bytes], first: int = 0) -> list[ConsumerRecord]:
    return [
        ConsumerRecord("t", 0, offset, 0, 0, b"k", body, None, 0, len(body), ())
        for offset, body in enumerate(bodies, first)
    ]


def bodies(count: int, refused: tuple[int, ...] = ()) -> list[bytes]:
    out = []
    for i in range(count):
        record = orjson.loads(chaos.body(i, "w"))
        if i in refused:
            record["data_source"] = REFUSED
        out.append(orjson.dumps(record))
    return out


class Letters:
    def __init__(self) -> None:
        self.sent: list[deadletters.Outgoing] = []

    async def __call__(self, letters: Any) -> None:
        self.sent.extend(letters)

    @property
    def offsets_and_codes(self) -> list[tuple[int, str]]:
        return [(letter.source.offset, letter.errors[0].code) for letter, _, _ in self.sent]  # type: ignore[union-attr]


async def store(fake: FakeClickHouse, batch: list[ConsumerRecord], size: int) -> Any:
    letters = Letters()
    inserts = Inserts(cast(ClickHouse, fake))
    stored = await inserts.chunks(rows.prepare_batch(batch, size), letters)
    return stored, letters


async def test_clean_chunks_are_one_insert_each_with_their_token() -> None:
    fake = FakeClickHouse()

    stored, letters = await store(fake, consumed(bodies(25)), 10)

    assert fake.tokens == ["t/0/0-9", "t/0/10-19", "t/0/20-24"]
    assert [r["kafka_offset"] for r in fake.rows] == list(range(25))
    assert (stored.rows, len(stored.wells), stored.fields) == (25, 25, {"F1"})
    assert letters.sent == []


@pytest.mark.parametrize("rejected", [False, True], ids=["not-a-record", "insert-rejected"])
async def test_a_chunk_with_a_bad_message_keeps_its_good_rows(rejected: bool) -> None:
    fake = FakeClickHouse()
    batch = bodies(6, refused=(4,) if rejected else ())
    if not rejected:
        batch[4] = b"{not json"

    stored, letters = await store(fake, consumed(batch), 3)

    assert sorted(r["kafka_offset"] for r in fake.rows) == [0, 1, 2, 3, 5]
    assert stored.rows == 5
    code = "insert_rejected" if rejected else "unparseable_json"
    assert letters.offsets_and_codes == [(4, code)]
    ((letter, key, _),) = letters.sent
    assert (letter.payload, key) == (batch[4].decode(), b"k")


@pytest.mark.parametrize(
    "bad",
    [pytest.param([0], id="first"), pytest.param([6], id="middle"), pytest.param([2, 9], id="two")],
)
async def test_a_rejected_chunk_is_split_down_to_the_bad_rows(bad: list[int]) -> None:
    fake = FakeClickHouse()
    (chunk,) = rows.prepare_batch(consumed(bodies(10, refused=tuple(bad)), 100), 1000)
    assert chunk.rows is not None

    rejected = await Inserts(cast(ClickHouse, fake)).rows(chunk.rows)

    assert [msg.offset for msg, _ in rejected] == [100 + i for i in bad]
    assert all("CANNOT_PARSE" in reason for _, reason in rejected)
    assert sorted(r["kafka_offset"] for r in fake.rows) == [
        100 + i for i in range(10) if i not in bad
    ]
    assert len(set(fake.tokens)) == len(fake.tokens), "every half has its own token"


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(OperationalError("connection refused"), id="transient"),
        pytest.param(DatabaseError("Code: 60. Table does not exist (UNKNOWN_TABLE)"), id="schema"),
    ],
)
async def test_failures_that_do_not_blame_the_rows_propagate(error: Exception) -> None:
    fake = FakeClickHouse(fail_with=error)
    letters = Letters()
    batch = rows.prepare_batch(consumed([*bodies(2), b"{not json"]), 10)

    with pytest.raises(type(error)):
        await Inserts(cast(ClickHouse, fake)).chunks(batch, letters)
    assert (fake.rows, letters.sent) == ([], [])


async def test_dead_letter_rows_are_one_insert_with_their_token() -> None:
    fake = FakeClickHouse()

    await Inserts(cast(ClickHouse, fake)).dead_letters([["a"], ["b"]], "dlq/0/3-3")

    assert fake.columns == [("dead_letters", [["a"], ["b"]], "dlq/0/3-3")]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        pytest.param(OverflowError("x"), True, id="client-overflow"),
        pytest.param(
            DatabaseError("Code: 27. CANNOT_PARSE_INPUT_ASSERTION_FAILED"), True, id="parse"
        ),
        pytest.param(DatabaseError("Code: 241. MEMORY_LIMIT_EXCEEDED"), False, id="memory"),
        pytest.param(OperationalError("timeout"), False, id="network"),
        pytest.param(RuntimeError("bug"), False, id="bug"),
    ],
)
def test_is_rejection(error: BaseException, expected: bool) -> None:
    assert is_rejection(error) is expected
