"""One consumed batch of normalized records into ``production_history``.

The batch is cut into chunks (``sink.chunks``), one insert each. A chunk of strictly
canonical records takes the fast path (``writer.fastpath``); any other chunk, and a
chunk ClickHouse rejected on the fast path, takes the model path: pydantic per message,
dead letters for what is not a record, column insert split down to a rejected row.

Two steps, so a caller can overlap them across batches (``writer.stream``): ``prepare``
is the decoding, pure CPU, run in a worker thread; ``store_prepared`` the inserts.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from aiokafka import ConsumerRecord

from contracts import CanonicalRecord, DeadLetter, ErrorCode, ErrorDetail, topics
from writer import deadletters, fastpath, metrics, sink
from writer.store import Rejection, Store, is_rejection

Outgoing = tuple[DeadLetter, bytes | None, dict[str, str]]
Publish = Callable[[Sequence[Outgoing]], Awaitable[None]]
Chunk = list[ConsumerRecord]

DEFAULT_CHUNK = 50_000


@dataclass
class Stored:
    """What a batch added: the rows inserted and the wells and fields they belong to."""

    rows: int = 0
    wells: set[str] = field(default_factory=set)
    fields: set[str] = field(default_factory=set)


def _headers(record: ConsumerRecord) -> dict[str, str]:
    wanted = (topics.HEADER_CORRELATION_ID,)
    return {k: v.decode(errors="replace") for k, v in record.headers or () if k in wanted}


def _rejection_letter(rejection: Rejection) -> Outgoing:
    error = ErrorDetail(code=ErrorCode.INSERT_REJECTED, message=rejection.reason)
    letter = deadletters.rejected(
        rejection.record.model_dump_json().encode(),
        [error],
        topic=rejection.topic,
        partition=rejection.partition,
        offset=rejection.offset,
    )
    return letter, rejection.record.well_code.encode(), {}


async def _store_models(chunk: Chunk, store: Store, stored: Stored) -> list[Outgoing]:
    # A chunk is one partition's messages in offset order (``sink.chunks``): one slice.
    part = sink.Slice(chunk[0].topic, chunk[0].partition)
    letters: list[Outgoing] = []
    for msg in chunk:
        parsed = sink.parse(msg.value)
        if isinstance(parsed, CanonicalRecord):
            part.add(parsed, msg.offset)
            continue
        where = {"topic": msg.topic, "partition": msg.partition, "offset": msg.offset}
        letters.append((deadletters.rejected(msg.value, parsed, **where), msg.key, _headers(msg)))
    if part:
        rejected = await store.write(part)
        letters += [_rejection_letter(r) for r in rejected]
        stored.rows += len(part) - len(rejected)
    stored.wells.update(r.well_code for r in part.records)
    stored.fields.update(r.field_code for r in part.records)
    metrics.CHUNKS.labels("model").inc()
    return letters


async def _store_chunk(
    chunk: Chunk, rows: fastpath.Rows | None, store: Store, stored: Stored
) -> list[Outgoing]:
    if rows is not None:
        try:
            await store.write_rows(rows)
        except Exception as exc:
            if not is_rejection(exc):
                raise
        else:
            stored.rows += rows.count
            stored.wells |= rows.wells
            stored.fields |= rows.fields
            metrics.CHUNKS.labels("json").inc()
            return []
    return await _store_models(chunk, store, stored)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A batch cut into its inserts, each with its fast-path rows (None: model path)."""

    batch: Sequence[ConsumerRecord]
    chunks: list[tuple[Chunk, fastpath.Rows | None]]


def prepare(batch: Sequence[ConsumerRecord], chunk: int = DEFAULT_CHUNK) -> Prepared:
    """Cut ``batch`` into chunks and decode each for the fast path (no I/O: it runs in a
    worker thread while ClickHouse inserts the batch before)."""
    return Prepared(batch, [(part, fastpath.prepare(part)) for part in sink.chunks(batch, chunk)])


async def store_prepared(prepared: Prepared, store: Store, publish: Publish) -> Stored:
    """Insert a prepared batch; send what cannot be stored to the dead-letter topic;
    return only when both are durable (the caller commits the offsets next)."""
    stored = Stored()
    letters: list[Outgoing] = []
    for part, rows in prepared.chunks:
        letters += await _store_chunk(part, rows, store, stored)
    if letters:
        await publish(letters)
        for letter, _, _ in letters:
            metrics.DEAD_LETTERS.labels(letter.errors[0].code).inc()
    return stored
