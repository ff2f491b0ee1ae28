"""Inserts into ClickHouse: one deduplicated insert per partition slice, and the split
of a slice ClickHouse rejects, down to the row that caused it.

Transient failures were already retried by the adapter when they reach this module;
they propagate, so the consumer rewinds the batch and commits nothing.
"""

import struct
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from clickhouse_connect.driver.exceptions import DatabaseError, DataError

from contracts import CanonicalRecord, DeadLetter
from runtime.clickhouse import ClickHouse, is_transient
from writer import deadletters, metrics
from writer.fastpath import JSON_INPUT, Rows
from writer.sink import HISTORY_COLUMNS, HISTORY_TABLE, Slice, to_columns

#: Server error codes that blame the data, not the server: splitting the insert finds
#: the row. Anything else (a missing table, a permission) would blame every row.
_DATA_ERRORS: Final = (
    "CANNOT_PARSE",
    "CANNOT_CONVERT",
    "TYPE_MISMATCH",
    "VALUE_IS_OUT_OF_RANGE",
    "ARGUMENT_OUT_OF_BOUND",
    "CANNOT_INSERT_NULL",
    "INCORRECT_DATA",
    "TOO_LARGE_STRING_SIZE",
    "DECIMAL_OVERFLOW",
    "ILLEGAL_COLUMN",
)


def is_rejection(exc: BaseException) -> bool:
    """True when the insert failed because of the rows it carried."""
    if is_transient(exc):
        return False
    if isinstance(exc, DataError | OverflowError | struct.error | ValueError | TypeError):
        return True  # the client could not serialize a value into its column type
    return isinstance(exc, DatabaseError) and any(code in str(exc) for code in _DATA_ERRORS)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row ClickHouse would not take, with where it was read and why."""

    topic: str
    partition: int
    offset: int
    record: CanonicalRecord
    reason: str


#: Every insert: no ReplacingMergeTree merge of the block being inserted. Reads never
#: depend on it (they take argMax by version per record) and background merges still
#: collapse duplicates; sorting and folding each block twice, once per table, cost a
#: fifth of the insert (measured: 119k -> 153k rows/s).
INSERT_SETTINGS: Final = {"optimize_on_insert": 0}


def _settings(token: str) -> dict[str, Any]:
    # The dependent view gets the same token, so `production` skips the block too.
    return {
        **INSERT_SETTINGS,
        "insert_deduplication_token": token,
        "deduplicate_blocks_in_dependent_materialized_views": 1,
    }


class Store:
    def __init__(self, ch: ClickHouse) -> None:
        self.ch = ch

    async def _timed(self, table: str, rows: int, insert: Awaitable[None]) -> None:
        started = time.perf_counter()
        await insert
        metrics.INSERT_SECONDS.labels(table).observe(time.perf_counter() - started)
        metrics.ROWS_INSERTED.labels(table).inc(rows)

    async def _insert(
        self, table: str, columns: list[list[Any]], names: Sequence[str], token: str
    ) -> None:
        insert = self.ch.insert(table, columns, names, settings=_settings(token))
        await self._timed(table, len(columns[0]), insert)

    async def write_rows(self, rows: Rows) -> None:
        """One ``JSONEachRow`` insert of a chunk the fast path prepared. A rejection
        raises: the caller hands the chunk to :meth:`write`, which isolates the row."""
        settings = {**JSON_INPUT, **_settings(rows.token)}
        insert = self.ch.insert_raw(HISTORY_TABLE, rows.body, "JSONEachRow", settings=settings)
        await self._timed(HISTORY_TABLE, rows.count, insert)

    async def write(self, part: Slice) -> list[Rejection]:
        """Insert ``part``; return the rows ClickHouse rejected (the rest is stored)."""
        try:
            await self._insert(HISTORY_TABLE, to_columns(part), HISTORY_COLUMNS, part.token)
        except Exception as exc:
            if not is_rejection(exc):
                raise
            if len(part) == 1:
                reason = f"{type(exc).__name__}: {exc}"[:1000]
                return [
                    Rejection(part.topic, part.partition, part.offsets[0], part.records[0], reason)
                ]
            metrics.INSERT_SPLITS.inc()
            left, right = part.split()
            return [
                *await self.write(left),
                *await self.write(right),
            ]
        return []

    async def write_dead_letters(
        self, letters: Sequence[tuple[DeadLetter, int, int]], token: str
    ) -> None:
        if letters:
            columns = deadletters.to_columns(letters)
            await self._insert(
                deadletters.DEAD_LETTERS_TABLE, columns, deadletters.DEAD_LETTER_COLUMNS, token
            )
