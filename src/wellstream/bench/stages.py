"""One stage at a time, without Kafka: the validator's batch processing against a bare
pydantic ``validate_json`` loop over the same records (issue floor: 0.6x), and the
writer's insert path against a bare column-oriented insert of the same rows into the same
engine (floor: 0.8x)."""

import asyncio
import os
import tempfile
import time
from collections.abc import Callable

import orjson

from contracts import CanonicalRecord, RawRecord
from wellstream.bench.data import raw_records
from wellstream.bench.report import Result


def _best_of(fn: Callable[[], object], count: int) -> float:
    started = time.perf_counter()
    fn()
    return count / (time.perf_counter() - started)


def _validator_inputs(records: int) -> tuple[list[bytes], list[object]]:
    from validator.enrich import WellRef
    from validator.pipeline import RawMessage

    payloads = raw_records(records, seed=11)
    accepted = int(time.time() * 1000)
    messages: list[object] = [
        RawMessage(value, "production.raw.v1", 0, offset, accepted)
        for offset, value in enumerate(payloads)
    ]
    wells = {orjson.loads(p)["well_code"] for p in payloads}
    from contracts.identifiers import canonical_code

    reference = {canonical_code(w): WellRef(well_code=w, operator="op") for w in wells}
    return payloads, [messages, reference]


def validator(records: int, runs: int) -> list[Result]:
    from validator.pipeline import process_batch
    from validator.rules import Policy

    payloads, (messages, reference) = _validator_inputs(records)
    policy = Policy()

    def bare() -> None:
        for value in payloads:
            RawRecord.model_validate_json(value)

    def ours() -> None:
        processed = process_batch(messages, policy, reference)  # type: ignore[arg-type]
        assert len(processed.normalized) + len(processed.rejected) == records

    figure, floor = [], []
    for _ in range(runs):
        floor.append(_best_of(bare, records))
        figure.append(_best_of(ours, records))
    return [
        Result(
            "validator process_batch",
            "records/s",
            figure,
            "bare RawRecord.model_validate_json loop",
            floor,
            target=0.6,
        )
    ]


def writer(records: int, runs: int) -> list[Result]:
    return asyncio.run(_writer(records, runs))


async def _writer(records: int, runs: int) -> list[Result]:
    from runtime.clickhouse import ClickHouse, connect
    from validator.pipeline import process_batch
    from validator.rules import Policy
    from writer import sink
    from writer.schema import migrate
    from writer.store import Store

    _, (messages, reference) = _validator_inputs(records)
    bodies = [n.body for n in process_batch(messages, Policy(), reference).normalized]  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory(prefix="wellstream-bench-") as tmp:
        url = os.environ.get("WELLSTREAM_CLICKHOUSE_URL", f"chdb://{tmp}/clickhouse")
        ch = ClickHouse(connect(url))
        await migrate(ch)
        await ch.command("CREATE TABLE IF NOT EXISTS bench_bare AS production_history")
        store = Store(ch)
        figure, floor = [], []
        for _ in range(runs):
            started = time.perf_counter()
            parsed = [sink.parse(body) for body in bodies]
            good = [p for p in parsed if isinstance(p, CanonicalRecord)]
            await store.insert_records(good)
            figure.append(len(good) / (time.perf_counter() - started))

            columns = sink.to_columns(next(iter(sink.offset_slices(good))))
            started = time.perf_counter()
            await ch.insert("bench_bare", columns, sink.HISTORY_COLUMNS)
            floor.append(len(good) / (time.perf_counter() - started))
        ch.close()
    return [
        Result(
            "writer insert path (JSON -> rows)",
            "rows/s",
            figure,
            "bare column-oriented insert",
            floor,
            target=0.8,
        )
    ]
