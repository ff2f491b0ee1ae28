"""One stage at a time, without Kafka: the validator's batch processing against a bare
pydantic ``validate_json`` loop over the same records (issue floor: 0.6x), and the
writer's insert path against a bare column-oriented insert of the same rows into the same
engine (floor: 0.8x)."""

import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import orjson

from contracts import CanonicalRecord, RawRecord
from wellstream.bench.data import raw_records
from wellstream.bench.report import Result

if TYPE_CHECKING:
    from validator.enrich import WellRef
    from validator.pipeline import RawMessage


def _best_of(fn: Callable[[], object], count: int) -> float:
    started = time.perf_counter()
    fn()
    return count / (time.perf_counter() - started)


def _validator_inputs(
    records: int,
) -> tuple[list[bytes], list["RawMessage"], dict[str, "WellRef"]]:
    from contracts.identifiers import canonical_code
    from validator.enrich import WellRef
    from validator.pipeline import RawMessage

    payloads = raw_records(records, seed=11)
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
    batch is dropped once counted, as the service drops it once published."""
    from validator.config import ValidatorSettings
    from validator.pipeline import process_batch
    from validator.rules import Policy

    payloads, messages, reference = _validator_inputs(records)
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
    for _ in range(runs):
        floor.append(_best_of(bare, records))
        figure.append(_best_of(ours, records))
    return [
        Result(
            f"validator process_batch ({size:,}-record batches)",
            "records/s",
            figure,
            "bare RawRecord.model_validate_json loop",
            floor,
            target=0.6,
        )
    ]


def writer(records: int, runs: int) -> list[Result]:
    return asyncio.run(_writer(records, runs))


def _consumed(bodies: list[bytes], topic: str) -> list[object]:
    """The normalized messages as the writer's consumer hands them over."""
    from aiokafka import ConsumerRecord

    return [
        ConsumerRecord(topic, 0, offset, 0, 0, None, body, None, 0, len(body), ())
        for offset, body in enumerate(bodies)
    ]


async def _writer(records: int, runs: int) -> list[Result]:
    """Ours: the consumer's batches (``WELLSTREAM_BATCH_MAX_RECORDS``) of normalized
    message bytes, each through ``store_normalized`` with the configured insert chunk,
    into ``production_history`` and, by its view, ``production``. The floor: one
    column-oriented insert of the same rows, already in columns, into a table of the
    same schema without the view. A second floor, reported without a target, inserts
    the same columns into ``production_history`` itself, view and projection included:
    the part of the gap that is the writer's own work rather than the tables'."""
    from runtime.clickhouse import ClickHouse, connect
    from validator.pipeline import process_batch
    from validator.rules import Policy
    from writer import sink
    from writer.config import WriterSettings
    from writer.pipeline import store_normalized
    from writer.schema import migrate
    from writer.store import INSERT_SETTINGS, Store

    async def no_dead_letters(letters: object) -> None:
        raise AssertionError(f"unexpected dead letters: {letters}")

    _, messages, reference = _validator_inputs(records)
    bodies = [n.body for n in process_batch(messages, Policy(), reference).normalized]
    good = [r for r in map(sink.parse, bodies) if isinstance(r, CanonicalRecord)]
    columns = sink.to_columns(next(iter(sink.offset_slices(good))))
    del good, messages  # neither side keeps them: they would only slow the collector
    settings = WriterSettings()
    size, chunk = settings.batch_max_records, settings.insert_chunk_records
    with tempfile.TemporaryDirectory(prefix="wellstream-bench-") as tmp:
        url = os.environ.get("WELLSTREAM_CLICKHOUSE_URL", f"chdb://{tmp}/clickhouse")
        ch = ClickHouse(connect(url))
        await migrate(ch)
        await ch.command("CREATE TABLE IF NOT EXISTS bench_bare AS production_history")
        store = Store(ch)
        figure, floor, tables = [], [], []
        for run in range(runs):
            # A topic per run: its deduplication tokens must not match an earlier run's.
            consumed = _consumed(bodies, f"bench.{time.time_ns()}.{run}")
            batches = [consumed[i : i + size] for i in range(0, len(consumed), size)]
            started = time.perf_counter()
            rows = 0
            for batch in batches:
                rows += (await store_normalized(batch, store, no_dead_letters, chunk)).rows
            figure.append(rows / (time.perf_counter() - started))
            assert rows == len(bodies), f"{len(bodies) - rows} rows lost"

            started = time.perf_counter()
            # Without this, every run after the first is recognised as a repeat of the
            # same block and skipped: the floor must write its rows, as the writer does.
            # The engine settings the writer's inserts use apply to the floor's as well.
            no_dedup = {**INSERT_SETTINGS, "insert_deduplicate": 0}
            await ch.insert("bench_bare", columns, sink.HISTORY_COLUMNS, settings=no_dedup)
            floor.append(len(columns[0]) / (time.perf_counter() - started))

            started = time.perf_counter()
            await ch.insert(sink.HISTORY_TABLE, columns, sink.HISTORY_COLUMNS, settings=no_dedup)
            tables.append(len(columns[0]) / (time.perf_counter() - started))
        ch.close()
    return [
        Result(
            f"writer insert path (JSON -> rows, {size:,}-record batches, {chunk:,}-row inserts)",
            "rows/s",
            figure,
            "bare column-oriented insert",
            floor,
            target=0.8,
        ),
        Result(
            "  the same, against a bare insert into the same tables",
            "rows/s",
            figure,
            "bare column insert into production_history (view, projection)",
            tables,
        ),
    ]
