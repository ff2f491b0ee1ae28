"""Inserts into ClickHouse: one deduplicated ``JSONEachRow`` insert per chunk, the split
of a chunk ClickHouse rejects down to the row that caused it, and the dead-letter rows.

Transient failures were already retried by the adapter when they reach this module;
they propagate, so the consumer rewinds the batch and commits nothing.
"""

import struct
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from aiokafka import ConsumerRecord
from clickhouse_connect.driver.exceptions import DatabaseError, DataError

from runtime.clickhouse import ClickHouse, is_transient
from writer import deadletters, metrics
from writer.rows import HISTORY_TABLE, JSON_INPUT, Chunk, Rows

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


Rejected = tuple[ConsumerRecord, str]
"""A message whose row ClickHouse would not take, and why."""


@dataclass
class Stored:
    """What a batch added: the rows inserted and the wells and fields they belong to."""

    rows: int = 0
    wells: set[str] = field(default_factory=set)
    fields: set[str] = field(default_factory=set)


class Inserts:
    def __init__(self, ch: ClickHouse) -> None:
        self.ch = ch

    async def _timed(self, table: str, rows: int, insert: Awaitable[None]) -> None:
        started = time.perf_counter()
        await insert
        metrics.INSERT_SECONDS.labels(table).observe(time.perf_counter() - started)
        metrics.ROWS_INSERTED.labels(table).inc(rows)

    async def rows(self, rows: Rows) -> list[Rejected]:
        """Insert ``rows``; return the messages whose row ClickHouse rejected (the rest
        is stored). A rejected insert is split in halves down to the single row."""
        settings = {**JSON_INPUT, **_settings(rows.token)}
        try:
            insert = self.ch.insert_raw(HISTORY_TABLE, rows.body, "JSONEachRow", settings=settings)
            await self._timed(HISTORY_TABLE, len(rows), insert)
        except Exception as exc:
            if not is_rejection(exc):
                raise
            if len(rows) == 1:
                return [(rows.messages[0], f"{type(exc).__name__}: {exc}"[:1000])]
            metrics.INSERT_SPLITS.inc()
            left, right = rows.split()
            return [*await self.rows(left), *await self.rows(right)]
        return []

    async def chunks(self, chunks: Sequence[Chunk], publish: deadletters.Publish) -> Stored:
        """Insert the chunks of a batch; send what cannot be stored to the dead-letter
        topic; return only when both are durable (the caller commits the offsets next)."""
        stored = Stored()
        letters = [letter for chunk in chunks for letter in chunk.letters]
        for chunk in chunks:
            if chunk.rows is None:
                continue
            rejected = await self.rows(chunk.rows)
            letters += [deadletters.insert_rejected(msg, why) for msg, why in rejected]
            stored.rows += len(chunk.rows) - len(rejected)
            stored.wells |= chunk.rows.wells
            stored.fields |= chunk.rows.fields
        if letters:
            await publish(letters)
            for letter, _, _ in letters:
                metrics.DEAD_LETTERS.labels(letter.errors[0].code).inc()
        return stored

    async def dead_letters(self, columns: list[list[Any]], token: str) -> None:
        """One insert of ``dead_letters`` rows (``deadletters.to_columns``)."""
        table = deadletters.DEAD_LETTERS_TABLE
        insert = self.ch.insert(
            table, columns, deadletters.DEAD_LETTER_COLUMNS, settings=_settings(token)
        )
        await self._timed(table, len(columns[0]), insert)
