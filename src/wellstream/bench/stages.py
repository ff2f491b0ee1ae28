"""The validator's stage, without Kafka: its batch processing against a bare pydantic
``validate_json`` loop over the same records (floor: 0.6x). The writer's stage is in
``wellstream.bench.writer``."""

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import orjson

from contracts import RawRecord
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
