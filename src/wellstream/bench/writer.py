"""The writer's insert path, without Kafka: its consumer loop over a backlog of already
fetched batches of normalized messages, against a bare column-oriented insert of the same
rows into the same tables (floor: 0.8x)."""

import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import AsyncIterator
from functools import partial
from typing import TYPE_CHECKING, Final
from urllib.parse import urlparse, urlunparse

from contracts.records import CanonicalRecord, decode_canonical, encode
from wellstream.bench.report import Result

if TYPE_CHECKING:
    from aiokafka import ConsumerRecord, TopicPartition

    from runtime.clickhouse import ClickHouse

#: The tables both sides insert into. Their background merges are stopped while the
#: benchmark runs: both sides write the same parts, so merging them costs both the same;
#: running, they would bill each side for the other's parts, whenever they were picked.
#: A server runs them on its own cores, apart from the writer's.
_BENCH_TABLES: Final = ("production_history", "production", "bench_bare")
_BENCH_DATABASE: Final = "wellstream_bench"
#: The floor's JSON-text columns (nested fields), as the writer's JSON input stores them.
_JSON_TEXT: Final = frozenset({"original_values", "extra"})


def writer(records: int, runs: int) -> list[Result]:
    """Ours: the consumer's batches (``WELLSTREAM_BATCH_MAX_RECORDS``) of normalized
    message bytes, all already fetched, through the writer's consumer loop
    (``writer.consumer.Loop``: each batch decoded while the one before is inserted,
    offsets committed per batch) with the configured insert chunk, into
    ``production_history`` and, by its view, ``production``.

    The floor: the same rows, already in columns, inserted column-oriented into the same
    tables in the same blocks (one insert per batch and chunk), with the same engine
    settings and no deduplication token. A second floor, reported without a target,
    inserts all the rows as one block into a table of the same schema without the view:
    what the engine does when neither the consumer's batches nor the view bound it.
    Background merges of the tables are stopped meanwhile (``_BENCH_TABLES``), and the
    objects alive before a run are frozen out of the garbage collector's reach, as the
    service freezes its start-up objects (``runtime.http.serve``)."""
    return asyncio.run(_writer(records, runs))


def consumed(bodies: list[bytes], topic: str, first: int = 0) -> list["ConsumerRecord"]:
    """The normalized messages as the writer's consumer hands them over, from offset
    ``first``."""
    from aiokafka import ConsumerRecord

    return [
        ConsumerRecord(topic, 0, offset, 0, 0, None, body, None, 0, len(body), ())
        for offset, body in enumerate(bodies, first)
    ]


async def _empty(ch: "ClickHouse") -> None:
    """Every side starts from empty tables, as the first run of either would."""
    for table in _BENCH_TABLES:
        await ch.command(f"TRUNCATE TABLE {table}")


class Backlog:
    """The writer's consumer catching up on a backlog: every batch already fetched, its
    partitions assigned throughout. Commits are counted; nothing is ever rewound."""

    def __init__(self, batches: list[list["ConsumerRecord"]]) -> None:
        from aiokafka import TopicPartition

        self.batches = batches
        self.commits = 0
        self.assigned = {TopicPartition(b[0].topic, b[0].partition) for b in batches}

    async def getmany(
        self, *partitions: "TopicPartition", timeout_ms: int = 0, max_records: int | None = None
    ) -> dict["TopicPartition", list["ConsumerRecord"]]:
        from aiokafka import TopicPartition

        if not self.batches:
            return {}
        batch = self.batches.pop(0)
        return {TopicPartition(batch[0].topic, batch[0].partition): batch}

    async def commit(self, offsets: dict["TopicPartition", int]) -> None:
        self.commits += 1

    def seek(self, partition: "TopicPartition", offset: int) -> None:
        raise AssertionError(f"rewound {partition} to {offset}")

    def assignment(self) -> set["TopicPartition"]:
        return self.assigned

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def highwater(self, partition: "TopicPartition") -> int | None:
        return None

    async def topics(self) -> set[str]:
        return {tp.topic for tp in self.assigned}


def _bodies(records: int) -> list[bytes]:
    """The benchmark's raw records through the validator: what the writer consumes."""
    from validator.pipeline import process_batch
    from validator.rules import Policy
    from wellstream.bench.stages import _validator_inputs

    _, messages, reference = _validator_inputs(records)
    return [n.body for n in process_batch(messages, Policy(), reference).normalized]


def _columns(bodies: list[bytes]) -> list[list[object]]:
    """The floor's columns: the records' fields (nested ones as JSON text), the lineage."""
    good = [decode_canonical(body) for body in bodies]
    columns: list[list[object]] = [
        [encode(getattr(r, name)).decode() for r in good]
        if name in _JSON_TEXT
        else [getattr(r, name) for r in good]
        for name in CanonicalRecord.__struct_fields__
    ]
    return [*columns, [""] * len(good), [-1] * len(good), list(range(len(good)))]


def _cuts(bodies: list[bytes], size: int, chunk: int) -> list[tuple[int, int]]:
    """The writer's inserts: its batches, cut where the offset crosses a multiple of chunk."""
    from writer.rows import chunks

    return [
        (part[0].offset, part[-1].offset + 1)
        for first in range(0, len(bodies), size)
        for part in chunks(consumed(bodies[first : first + size], "cuts", first), chunk)
    ]


@contextlib.asynccontextmanager
async def _engine() -> AsyncIterator["ClickHouse"]:
    """The engine both sides write to, migrated, with merges of the benchmark's tables
    stopped. On a server, in a database of its own, dropped at the end (the benchmark
    empties its tables)."""
    from runtime.clickhouse import ClickHouse, connect
    from writer.schema import migrate

    with tempfile.TemporaryDirectory(prefix="wellstream-bench-") as tmp:
        url = os.environ.get("WELLSTREAM_CLICKHOUSE_URL", f"chdb://{tmp}/clickhouse")
        admin = None if url.startswith("chdb://") else ClickHouse(connect(url))
        if admin is not None:
            await admin.command(f"CREATE DATABASE IF NOT EXISTS {_BENCH_DATABASE}")
            url = urlunparse(urlparse(url)._replace(path=f"/{_BENCH_DATABASE}"))
        ch = ClickHouse(connect(url))
        await migrate(ch)
        await ch.command("CREATE TABLE IF NOT EXISTS bench_bare AS production_history")
        for table in _BENCH_TABLES:
            await ch.command(f"SYSTEM STOP MERGES {table}")
        try:
            yield ch
        finally:
            ch.close()
            if admin is not None:
                await admin.command(f"DROP DATABASE {_BENCH_DATABASE}")
                admin.close()


async def _ours(ch: "ClickHouse", bodies: list[bytes], run: int) -> float:
    """Rows/s of the writer's loop over the backlog, every row stored and committed."""
    from runtime.http import freeze_objects
    from writer.config import WriterSettings
    from writer.consumer import Loop
    from writer.inserts import Inserts
    from writer.rows import Chunk, prepare_batch

    settings = WriterSettings()
    size, inserts, rows = settings.batch_max_records, Inserts(ch), 0

    async def no_dead_letters(letters: object) -> None:
        raise AssertionError(f"unexpected dead letters: {letters}")

    async def insert(prepared: list[Chunk]) -> None:
        nonlocal rows
        rows += (await inserts.chunks(prepared, no_dead_letters)).rows

    # A topic per run: its deduplication tokens must not match an earlier run's.
    topic = f"bench.{time.time_ns()}.{run}"
    batches = [consumed(bodies[i : i + size], topic, i) for i in range(0, len(bodies), size)]
    count, backlog = len(batches), Backlog(batches)  # the backlog hands them out
    prepare = partial(prepare_batch, size=settings.insert_chunk_records)
    loop = Loop(backlog, prepare, insert, label="bench", max_records=size, wait_ms=0)
    await _empty(ch)
    freeze_objects()
    started = time.perf_counter()
    await loop.batches(until_idle=True)
    elapsed = time.perf_counter() - started
    assert rows == len(bodies), f"{len(bodies) - rows} rows lost"
    assert backlog.commits == count, "a batch was not committed"
    return rows / elapsed


async def _bare(ch: "ClickHouse", table: str, blocks: list[list[list[object]]]) -> float:
    """Rows/s of column-oriented inserts of ``blocks`` into ``table``, without
    deduplication (else every run after the first would be skipped as a repeat)."""
    from writer.inserts import INSERT_SETTINGS
    from writer.rows import HISTORY_COLUMNS

    no_dedup = {**INSERT_SETTINGS, "insert_deduplicate": 0}
    await _empty(ch)
    started = time.perf_counter()
    for block in blocks:
        await ch.insert(table, block, HISTORY_COLUMNS, settings=no_dedup)
    return sum(len(block[0]) for block in blocks) / (time.perf_counter() - started)


async def _writer(records: int, runs: int) -> list[Result]:
    from writer.config import WriterSettings
    from writer.consumer import short_switch_interval
    from writer.rows import HISTORY_TABLE

    bodies = _bodies(records)
    columns = _columns(bodies)
    settings = WriterSettings()
    size, chunk = settings.batch_max_records, settings.insert_chunk_records
    blocks = [
        [column[start:end] for column in columns] for start, end in _cuts(bodies, size, chunk)
    ]
    figure, floor, single = [], [], []
    with short_switch_interval():  # as the writer app runs
        async with _engine() as ch:
            for run in range(runs):
                figure.append(await _ours(ch, bodies, run))
                floor.append(await _bare(ch, HISTORY_TABLE, blocks))
                single.append(await _bare(ch, "bench_bare", [columns]))
    return [
        Result(
            f"writer insert path (JSON -> rows, {size:,}-record batches, {chunk:,}-row inserts)",
            "rows/s",
            figure,
            f"bare column-oriented insert, same tables and {len(blocks)} blocks",
            floor,
            target=0.8,
        ),
        Result(
            "  the same, against one block into a table without the view",
            "rows/s",
            figure,
            f"bare column-oriented insert of {len(bodies):,} rows at once",
            single,
        ),
    ]
