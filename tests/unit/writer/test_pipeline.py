"""A consumed batch: fast path for clean chunks, model path (and dead letters) for the
rest, and a fast insert ClickHouse rejects handed to the model path."""

from collections.abc import Sequence
from typing import Any, cast

import orjson
import pytest
from aiokafka import ConsumerRecord
from clickhouse_connect.driver.exceptions import DatabaseError

from runtime.clickhouse import ClickHouse
from wellstream.chaos import data as chaos
from writer import pipeline
from writer.store import Store


class FakeClickHouse:
    """Keeps rows from both insert forms; can refuse every JSON insert as ClickHouse does
    when it cannot parse a row."""

    def __init__(self, refuse_json: bool = False) -> None:
        self.rows: list[dict[str, Any]] = []
        self.forms: list[str] = []
        self.refuse_json = refuse_json

    async def insert(
        self, table: str, columns: list[list[Any]], names: Sequence[str], settings: Any = None
    ) -> None:
        self.rows += [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
        self.forms.append("columns")

    async def insert_raw(self, table: str, data: bytes, fmt: str, settings: Any = None) -> None:
        if self.refuse_json:
            raise DatabaseError("Code: 117. Duplicate field found (INCORRECT_DATA)")
        self.rows += [orjson.loads(line) for line in data.splitlines()]
        self.forms.append(fmt)


def consumed(bodies: list[bytes], partition: int = 0) -> list[ConsumerRecord]:
    return [
        ConsumerRecord("t", partition, offset, 0, 0, b"k", body, None, 0, len(body), ())
        for offset, body in enumerate(bodies)
    ]


def bodies(count: int, prefix: str = "w") -> list[bytes]:
    return [chaos.canonical(i, prefix).model_dump_json().encode() for i in range(count)]


async def test_clean_chunks_take_the_fast_path_one_insert_each() -> None:
    fake = FakeClickHouse()
    letters: list[Any] = []

    async def publish(out: Any) -> None:
        letters.extend(out)

    prepared = pipeline.prepare(consumed(bodies(25)), chunk=10)
    stored = await pipeline.store_prepared(prepared, Store(cast(ClickHouse, fake)), publish)

    assert fake.forms == ["JSONEachRow"] * 3
    assert [r["kafka_offset"] for r in fake.rows] == list(range(25))
    assert (stored.rows, len(stored.wells), stored.fields) == (25, 25, {"F1"})
    assert letters == []


@pytest.mark.parametrize("refuse_json", [False, True], ids=["model-path", "fast-rejected"])
async def test_a_chunk_with_a_bad_message_keeps_its_good_rows(refuse_json: bool) -> None:
    fake = FakeClickHouse(refuse_json=refuse_json)
    letters: list[Any] = []

    async def publish(out: Any) -> None:
        letters.extend(out)

    batch = bodies(6)
    if not refuse_json:
        batch[4] = b"{not json"
    prepared = pipeline.prepare(consumed(batch), chunk=3)
    stored = await pipeline.store_prepared(prepared, Store(cast(ClickHouse, fake)), publish)

    expected = [0, 1, 2, 3, 5] if not refuse_json else list(range(6))
    assert sorted(r["kafka_offset"] for r in fake.rows) == expected
    assert stored.rows == len(expected)
    assert [letter.source.offset for letter, _, _ in letters] == ([4] if not refuse_json else [])
    assert "columns" in fake.forms
