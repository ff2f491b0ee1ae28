"""One stage at a time, without Kafka: the validator's batch processing against a bare
pydantic ``validate_json`` loop over the same records (issue floor: 0.6x), and the
writer's insert path against a bare column-oriented insert of the same rows into the same
engine (floor: 0.8x)."""

import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final
from urllib.parse import urlparse, urlunparse

import orjson

from contracts import CanonicalRecord, RawRecord
from wellstream.bench.data import raw_records
from wellstream.bench.report import Result

if TYPE_CHECKING:
    from aiokafka import ConsumerRecord, TopicPartition

    from runtime.clickhouse import ClickHouse
    from validator.enrich import WellRef
    from validator.pipeline import RawMessage


def _best_of(fn: Callable[[], object], count: int) -> float:
    started = time.perf_counter()
    fn()
    return count / (time.perf_counter() - started)


def _validator_inputs(
    records: int, unknown_field: bool = False
) -> tuple[list[bytes], list["RawMessage"], dict[str, "WellRef"]]:
    """The records, as raw messages, and reference data for every well; with
    ``unknown_field``, each record also carries a field the contract does not name."""
    from contracts.identifiers import canonical_code
    from validator.enrich import WellRef
    from validator.pipeline import RawMessage

    payloads = raw_records(records, seed=11)
    if unknown_field:
        payloads = [value[:-1] + b',"operator_note":"as sent"}' for value in payloads]
    accepted = int(time.time() * 1000)
    messages = [
        RawMessage(value, "production.raw.v1", 0, offset, accepted)
        for offset, value in enumerate(payloads)
    ]
    wells = {orjson.loads(p)["well_code"] for p in payloads}
    reference = {canonical_code(w): WellRef(well_code=w, operator="op") for w in wells}
    return payloads, messages, reference


def validator(records: int, runs: int) -> list[Result]:
    """Both sides walk the same records in consumer batches of the configured size
    (``WELLSTREAM_BATCH_MAX_RECORDS``), as the service does; the validator's output of a
    batch is dropped once counted, as the service drops it once published.

    The records waiting their turn are frozen out of the garbage collector's reach, as the
    writer's benchmark freezes its backlog: the service never holds more than the batch
    in hand, but a collection during a run would walk all of them.

    A second line, for information, times records that each carry one field the contract
    does not name (kept in ``extra``), against the same loop over them."""
    return [
        _validator(records, runs, unknown_field=False),
        _validator(records, runs, unknown_field=True),
    ]


def _validator(records: int, runs: int, unknown_field: bool) -> Result:
    from runtime.http import freeze_objects
    from validator.config import ValidatorSettings
    from validator.pipeline import process_batch
    from validator.rules import Policy

    payloads, messages, reference = _validator_inputs(records, unknown_field)
    policy = Policy()
    size = ValidatorSettings().batch_max_records
    batches = [messages[i : i + size] for i in range(0, len(messages), size)]

    def bare() -> None:
        for value in payloads:
            RawRecord.model_validate_json(value)

    def ours() -> None:
        done = 0
        for batch in batches:
            processed = process_batch(batch, policy, reference)
            done += len(processed.normalized) + len(processed.rejected)
        assert done == records, f"{records - done} records lost"

    figure, floor = [], []
    freeze_objects()
    for _ in range(runs):
        floor.append(_best_of(bare, records))
        figure.append(_best_of(ours, records))
    name = f"validator process_batch ({size:,}-record batches)"
    if unknown_field:
        name = f"validator process_batch, an unknown field in every record ({size:,})"
    return Result(
        name,
        "records/s",
        figure,
        "bare RawRecord.model_validate_json loop",
        floor,
        target=None if unknown_field else 0.6,
    )


def writer(records: int, runs: int) -> list[Result]:
    return asyncio.run(_writer(records, runs))


def _consumed(bodies: list[bytes], topic: str, first: int = 0) -> list["ConsumerRecord"]:
    """The normalized messages as the writer's consumer hands them over, from offset
    ``first``."""
    from aiokafka import ConsumerRecord

    return [
        ConsumerRecord(topic, 0, offset, 0, 0, None, body, None, 0, len(body), ())
        for offset, body in enumerate(bodies, first)
    ]


#: The tables both sides insert into. Their background merges are stopped while the
#: benchmark runs: both sides write the same parts, so merging them costs both the same;
#: running, they would bill each side for the other's parts, whenever they were picked.
#: A server runs them on its own cores, apart from the writer's.
_BENCH_TABLES: Final = ("production_history", "production", "bench_bare")
_BENCH_DATABASE: Final = "wellstream_bench"


async def _empty(ch: "ClickHouse") -> None:
    """Every side starts from empty tables, as the first run of either would."""
    for table in _BENCH_TABLES:
        await ch.command(f"TRUNCATE TABLE {table}")


class _Backlog:
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


async def _writer(records: int, runs: int) -> list[Result]:
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
    from functools import partial

    from contracts.records import encode
    from runtime.clickhouse import ClickHouse, connect
    from runtime.http import freeze_objects
    from validator.pipeline import process_batch
    from validator.rules import Policy
    from writer.config import WriterSettings
    from writer.consumer import Loop, short_switch_interval
    from writer.inserts import INSERT_SETTINGS, Inserts
    from writer.rows import HISTORY_COLUMNS, HISTORY_TABLE, Chunk, chunks, prepare_batch, why_not
    from writer.schema import migrate

    async def no_dead_letters(letters: object) -> None:
        raise AssertionError(f"unexpected dead letters: {letters}")

    _, messages, reference = _validator_inputs(records)
    bodies = [n.body for n in process_batch(messages, Policy(), reference).normalized]
    good = [r for r in map(why_not, bodies) if isinstance(r, CanonicalRecord)]
    # The floor's columns: the records' fields (nested ones as JSON text), the lineage.
    json_text = {"original_values", "extra"}
    columns: list[list[object]] = [
        [encode(getattr(r, name)).decode() for r in good]
        if name in json_text
        else [getattr(r, name) for r in good]
        for name in CanonicalRecord.__struct_fields__
    ]
    columns += [[""] * len(good), [-1] * len(good), list(range(len(good)))]
    del good, messages  # neither side keeps them: they would only slow the collector
    settings = WriterSettings()
    size, chunk = settings.batch_max_records, settings.insert_chunk_records
    # The writer's inserts: its batches, cut where the offset crosses a multiple of chunk.
    cuts = [
        (part[0].offset, part[-1].offset + 1)
        for first in range(0, len(bodies), size)
        for part in chunks(_consumed(bodies[first : first + size], "cuts", first), chunk)
    ]
    blocks = [[column[start:end] for column in columns] for start, end in cuts]
    # Without this, every run after the first is recognised as a repeat of the same
    # block and skipped: the floor must write its rows, as the writer does.
    no_dedup = {**INSERT_SETTINGS, "insert_deduplicate": 0}
    with (
        tempfile.TemporaryDirectory(prefix="wellstream-bench-") as tmp,
        short_switch_interval(),  # as the writer app runs
    ):
        url = os.environ.get("WELLSTREAM_CLICKHOUSE_URL", f"chdb://{tmp}/clickhouse")
        if not url.startswith("chdb://"):
            # A server: the benchmark empties its tables, so they live in a database of
            # its own, dropped at the end.
            admin = ClickHouse(connect(url))
            await admin.command(f"CREATE DATABASE IF NOT EXISTS {_BENCH_DATABASE}")
            url = urlunparse(urlparse(url)._replace(path=f"/{_BENCH_DATABASE}"))
        ch = ClickHouse(connect(url))
        await migrate(ch)
        await ch.command("CREATE TABLE IF NOT EXISTS bench_bare AS production_history")
        for table in _BENCH_TABLES:
            await ch.command(f"SYSTEM STOP MERGES {table}")
        inserts = Inserts(ch)
        rows = 0

        async def insert(prepared: list[Chunk]) -> None:
            nonlocal rows
            rows += (await inserts.chunks(prepared, no_dead_letters)).rows

        figure, floor, single = [], [], []
        for run in range(runs):
            # A topic per run: its deduplication tokens must not match an earlier run's.
            topic = f"bench.{time.time_ns()}.{run}"
            backlog = _Backlog(
                [_consumed(bodies[i : i + size], topic, i) for i in range(0, len(bodies), size)]
            )
            rows = 0
            await _empty(ch)
            freeze_objects()
            loop = Loop(
                backlog,
                partial(prepare_batch, size=chunk),
                insert,
                label="bench",
                max_records=size,
                wait_ms=0,
            )
            started = time.perf_counter()
            await loop.batches(until_idle=True)
            figure.append(rows / (time.perf_counter() - started))
            assert rows == len(bodies), f"{len(bodies) - rows} rows lost"
            assert backlog.commits == -(-len(bodies) // size), "a batch was not committed"

            await _empty(ch)
            started = time.perf_counter()
            for part in blocks:
                await ch.insert(HISTORY_TABLE, part, HISTORY_COLUMNS, settings=no_dedup)
            floor.append(len(bodies) / (time.perf_counter() - started))

            await _empty(ch)
            started = time.perf_counter()
            await ch.insert("bench_bare", columns, HISTORY_COLUMNS, settings=no_dedup)
            single.append(len(bodies) / (time.perf_counter() - started))
        ch.close()
        if not url.startswith("chdb://"):
            await admin.command(f"DROP DATABASE {_BENCH_DATABASE}")
            admin.close()
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
