"""The insert path: deduplication settings, and the split that isolates a rejected row."""

from typing import Any, cast

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

from runtime.clickhouse import ClickHouse
from wellstream.chaos import data as chaos
from writer import sink
from writer.store import Store, is_rejection


class FakeClickHouse:
    """Stores inserted rows; refuses a block holding a negative version, as the client
    does when it serializes a UInt64 column."""

    def __init__(self, fail_with: BaseException | None = None) -> None:
        self.rows: list[dict[str, Any]] = []
        self.tokens: list[str | None] = []
        self.fail_with = fail_with

    async def insert(
        self,
        table: str,
        columns: list[list[Any]],
        names: tuple[str, ...],
        settings: dict[str, Any] | None = None,
    ) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        block = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
        if any(row.get("version", 0) < 0 for row in block):
            raise OverflowError("can't convert negative int to unsigned")
        self.rows += block
        self.tokens.append((settings or {}).get("insert_deduplication_token"))


def part(versions: list[int]) -> sink.Slice:
    records = [chaos.canonical(i, "w", version=v) for i, v in enumerate(versions)]
    return sink.Slice("t", 0, records, [100 + i for i in range(len(versions))])


async def test_a_clean_slice_is_one_insert_with_its_token() -> None:
    fake = FakeClickHouse()

    rejected = await Store(cast(ClickHouse, fake)).write(part([1, 1, 1]))

    assert rejected == []
    assert fake.tokens == ["t/0/100-102"]
    assert [r["kafka_offset"] for r in fake.rows] == [100, 101, 102]


@pytest.mark.parametrize(
    "bad",
    [pytest.param([0], id="first"), pytest.param([6], id="middle"), pytest.param([2, 9], id="two")],
)
async def test_a_rejected_slice_is_split_down_to_the_bad_rows(bad: list[int]) -> None:
    fake = FakeClickHouse()
    versions = [-1 if i in bad else 1 for i in range(10)]

    rejected = await Store(cast(ClickHouse, fake)).write(part(versions))

    assert [r.offset for r in rejected] == [100 + i for i in bad]
    assert all("OverflowError" in r.reason for r in rejected)
    assert sorted(r["kafka_offset"] for r in fake.rows) == [
        100 + i for i in range(10) if i not in bad
    ]
    assert len(set(fake.tokens)) == len(fake.tokens), "every sub-slice has its own token"


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(OperationalError("connection refused"), id="transient"),
        pytest.param(DatabaseError("Code: 60. Table does not exist (UNKNOWN_TABLE)"), id="schema"),
    ],
)
async def test_failures_that_do_not_blame_the_rows_propagate(error: Exception) -> None:
    fake = FakeClickHouse(fail_with=error)

    with pytest.raises(type(error)):
        await Store(cast(ClickHouse, fake)).write(part([1, 1]))
    assert fake.rows == []


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
