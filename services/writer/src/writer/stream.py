"""Consumed batches in a row, each decoded while the one before it is inserted.

Decoding a batch is Python work that holds the interpreter; an insert runs in the
engine (or on the server) without it. A handler that did one after the other would
leave a core idle half the time. So when the consumer already holds the next batch, it
is fetched inside the same handler call and prepared in a worker thread while the
current one is inserted.

Offsets are committed here, explicitly, batch by batch and only after the batch's
insert and dead letters are durable: never past a record that is not stored. When
anything fails, every partition touched since the last commit is rewound to its first
uncommitted offset and the error propagates; the records are read again. An insert that
did land is skipped by ClickHouse when the replay cuts the same chunk (same
deduplication token); cut elsewhere, its rows are stored again as the same versions,
which reads never see twice (they take one row per record and version).
"""

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from itertools import chain
from operator import attrgetter
from typing import Final, Protocol

from aiokafka import ConsumerRecord, TopicPartition

from writer.pipeline import Prepared

Records = Sequence[ConsumerRecord]
Offsets = dict[TopicPartition, int]

log = logging.getLogger(__name__)

#: How long one handler call goes on taking batches the consumer already holds. It
#: returns then, so a stopping consumer never waits longer for it.
RUN_SECONDS: Final = 5.0


#: The interpreter's switch interval while the writer runs (Python's default: 5 ms).
#: The thread driving an insert needs the interpreter for moments (to start the insert,
#: to take its result), and each time waits for the decoding thread's time slice to end.
#: Measured on 2 cores, embedded engine: an insert beside a decoding thread took 27 %
#: longer than alone at 5 ms, 13 % at 0.2 ms; the writer benchmark ran 4-17 % faster at
#: 0.5 ms (three paired runs).
SWITCH_INTERVAL: Final = 0.0005


@contextlib.contextmanager
def short_switch_interval() -> Iterator[None]:
    """Run the body with the switch interval at most ``SWITCH_INTERVAL``, then restore it."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, SWITCH_INTERVAL))
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


class Source(Protocol):
    """What the loop uses of the consumer (``aiokafka.AIOKafkaConsumer``)."""

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[ConsumerRecord]]: ...

    async def commit(self, offsets: dict[TopicPartition, int]) -> None: ...

    def seek(self, partition: TopicPartition, offset: int) -> None: ...

    def assignment(self) -> set[TopicPartition]: ...


_PARTITION: Final = attrgetter("topic", "partition")
_OFFSET: Final = attrgetter("offset")


def _last_offsets(batch: Records) -> dict[tuple[str, int], int]:
    # The walk over every message runs in C: a batch holds tens of thousands.
    return dict(zip(map(_PARTITION, batch), map(_OFFSET, batch), strict=True))


def first_offsets(batch: Records) -> Offsets:
    """The first offset of each partition in ``batch`` (offset order per partition)."""
    firsts = _last_offsets(batch[::-1])
    return {TopicPartition(*tp): offset for tp, offset in firsts.items()}


def next_offsets(batch: Records) -> Offsets:
    """What to commit once ``batch`` is stored: each partition's last offset plus one."""
    return {TopicPartition(*tp): offset + 1 for tp, offset in _last_offsets(batch).items()}


def _prepare(
    prepare: Callable[[Records], Prepared], batch: Records, retired: list[object]
) -> tuple[Prepared, Offsets]:
    """``batch`` prepared, with the offsets to commit once it is stored: both worked out
    in the worker thread, off the path between one insert and the next.

    ``retired`` holds the last references to a batch already stored and its prepared
    form: they are released here, so freeing tens of thousands of messages does not
    hold up the next insert either."""
    retired.clear()
    return prepare(batch), next_offsets(batch)


async def _commit(source: Source, offsets: Offsets) -> Offsets:
    """Commit the offsets of the partitions still assigned; return them.

    A partition revoked in a rebalance while its batch was being stored is not committed
    (the consumer would refuse it, and the rest of the batch with it): its new owner
    reads it again from its last commit. The chunk it inserts again is skipped when cut
    the same way (same deduplication token), else stored again as the same versions."""
    assigned = source.assignment()
    held = {tp: offset for tp, offset in offsets.items() if tp in assigned}
    if len(held) < len(offsets):
        revoked = sorted(f"{tp.topic}/{tp.partition}" for tp in offsets.keys() - held.keys())
        log.info("revoked before their commit, left to their new owner: %s", ", ".join(revoked))
    if held:
        await source.commit(held)
    return held


def rewind(source: Source, *batches: Records) -> None:
    """Seek every partition of ``batches`` (oldest first) back to its earliest offset in
    them, so the next fetch reads them again. A partition no longer assigned is left to
    its new owner, which starts from the committed offset."""
    earliest: dict[TopicPartition, int] = {}
    for batch in reversed(batches):
        earliest.update(first_offsets(batch))
    assigned = source.assignment()
    for tp, offset in earliest.items():
        if tp in assigned:
            source.seek(tp, offset)


def _drop(upcoming: "asyncio.Future[tuple[Prepared, Offsets]]") -> None:
    """Give up on a batch being prepared (its worker thread runs to its end, unheeded);
    an error it already raised is taken, not left for asyncio to report."""
    if upcoming.done() and not upcoming.cancelled():
        upcoming.exception()
    upcoming.cancel()


async def _buffered(source: Source, max_records: int) -> Records:
    """The next batch if the consumer already holds one, else nothing. It does not wait,
    except during a rebalance (aiokafka waits for the new assignment): the batch in hand
    is then stored and its commit, refused, rewinds it for its new owner."""
    fetched = await source.getmany(timeout_ms=0, max_records=max_records)
    return tuple(chain.from_iterable(fetched.values()))


async def run(
    first: Records,
    source: Source,
    prepare: Callable[[Records], Prepared],
    store: Callable[[Prepared], Awaitable[object]],
    *,
    max_records: int,
    run_seconds: float = RUN_SECONDS,
    committed: Callable[[Offsets], None] | None = None,
) -> int:
    """Store ``first`` and the batches the consumer holds behind it, committing each
    batch's offsets once ``store`` returned; the number of batches stored.

    ``prepare`` runs in a worker thread, the next batch's while ``store`` inserts the
    current one. ``committed`` is called with the offsets of each commit (partitions
    revoked meanwhile are left out: ``_commit``)."""
    deadline = time.monotonic() + run_seconds
    batch = first
    retired: list[object] = []
    try:
        prepared, offsets = await asyncio.to_thread(_prepare, prepare, batch, retired)
    except BaseException:
        rewind(source, batch)
        raise
    done = 0
    while True:
        following: Records = ()
        upcoming = None
        try:
            if time.monotonic() < deadline:
                following = await _buffered(source, max_records)
            if following:
                upcoming = asyncio.ensure_future(
                    asyncio.to_thread(_prepare, prepare, following, retired)
                )
                retired = []
            await store(prepared)
            offsets = await _commit(source, offsets)
        except BaseException:
            if upcoming is not None:
                _drop(upcoming)
            rewind(source, batch, following)
            raise
        done += 1
        if committed is not None:
            try:
                committed(offsets)
            except Exception:  # bookkeeping: it must not cost the batch behind
                log.exception("after-commit callback failed")
        if upcoming is None:
            return done
        retired += (batch, prepared)  # released by the next prepare
        batch = following
        try:
            prepared, offsets = await upcoming
        except BaseException:
            rewind(source, batch)
            raise
