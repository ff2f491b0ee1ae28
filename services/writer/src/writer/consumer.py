"""The writer's consumer loop: fetch -> decode -> store -> commit, batch after batch.

One ``Loop`` per topic owns its aiokafka consumer; what it does with a batch is two
steps it is given: ``decode`` (pure CPU, run in a worker thread) and ``store`` (the
inserts and dead letters). Decoding holds the interpreter, an insert does not: so when
the consumer already holds the next batch, it is decoded while the current one is
stored, and a core is not left idle half the time.

Offsets are committed batch by batch, explicitly, only after the batch's ``store``
returned (its inserts and dead letters are durable): never past a record that is not
stored. When any step fails, every partition fetched since the last commit is rewound
to its first uncommitted offset and the loop starts again after a backoff; the records
are read again. An insert that did land is skipped by ClickHouse when the replay cuts
the same chunk (same deduplication token); cut elsewhere, its rows are stored again as
the same versions, which reads never see twice (one row per record and version).
"""

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter
from typing import Any, Final, Generic, Protocol, TypeVar

from aiokafka import ConsumerRebalanceListener, ConsumerRecord, TopicPartition

from writer import metrics

T = TypeVar("T")
Records = Sequence[ConsumerRecord]
Offsets = dict[TopicPartition, int]

log = logging.getLogger(__name__)

#: The interpreter's switch interval while the writer runs (Python's default: 5 ms).
#: The thread driving an insert needs the interpreter for moments (to start the insert,
#: to take its result), and each time waits for the decoding thread's time slice to end.
#: Measured on 2 cores, embedded engine: an insert beside a decoding thread took 27 %
#: longer than alone at 5 ms, 13 % at 0.2 ms; the writer benchmark ran 4-17 % faster at
#: 0.5 ms (three paired runs).
SWITCH_INTERVAL: Final = 0.0005
#: Backoff after a failed batch: the first wait, doubled up to the last.
BACKOFF: Final = (0.5, 30.0)


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
    """What the loop uses of its consumer (``aiokafka.AIOKafkaConsumer``)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[ConsumerRecord]]: ...

    async def commit(self, offsets: dict[TopicPartition, int]) -> None: ...

    def seek(self, partition: TopicPartition, offset: int) -> None: ...

    def assignment(self) -> set[TopicPartition]: ...

    def highwater(self, partition: TopicPartition) -> int | None: ...

    async def topics(self) -> set[str]: ...


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


def _decoded(
    decode: Callable[[Records], T], batch: Records, retired: list[object]
) -> tuple[T, Offsets]:
    """``batch`` decoded, with the offsets to commit once it is stored: both worked out
    in the worker thread, off the path between one insert and the next.

    ``retired`` holds the last references to a batch already stored and its decoded
    form: they are released here, so freeing tens of thousands of messages does not
    hold up the next insert either."""
    retired.clear()
    return decode(batch), next_offsets(batch)


def _drop(upcoming: "asyncio.Future[Any]") -> None:
    """Give up on a batch being decoded (its worker thread runs to its end, unheeded);
    an error it already raised is taken, not left for asyncio to report."""
    if upcoming.done() and not upcoming.cancelled():
        upcoming.exception()
    upcoming.cancel()


@dataclass
class _Held:
    """A batch fetched and not committed yet, and its partitions revoked since."""

    records: Records
    revoked: set[TopicPartition] = field(default_factory=set)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Counts rebalances, and marks the partitions revoked in the batches held: their
    new owner reads them again from the last commit, so this loop must not commit them."""

    def __init__(self, held: list[_Held]) -> None:
        self._held = held

    async def on_partitions_revoked(self, revoked: Any) -> None:
        metrics.REBALANCES.labels("revoked").inc(len(revoked))
        for batch in self._held:
            batch.revoked.update(revoked)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        metrics.REBALANCES.labels("assigned").inc(len(assigned))


class Loop(Generic[T]):
    """Fetch -> decode -> store -> commit over ``source``, from ``start`` to ``stop``."""

    def __init__(
        self,
        source: Source,
        decode: Callable[[Records], T],
        store: Callable[[T], Awaitable[object]],
        *,
        label: str,
        max_records: int,
        wait_ms: int,
    ) -> None:
        self.source, self.decode, self.store = source, decode, store
        self.label, self.max_records, self.wait_ms = label, max_records, wait_ms
        self.backoff = BACKOFF
        self.committed = 0  # batches committed so far
        self._held: list[_Held] = []
        self.listener = _Rebalance(self._held)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.source.start()
        self._task = asyncio.create_task(self.run(), name=f"writer-{self.label}")

    async def stop(self) -> None:
        """Stop between two steps; what is not committed is read again by the next owner."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.source.stop()

    async def ping(self, within: float = 5.0) -> None:
        """Raise unless the broker answers a metadata request within ``within`` seconds."""
        await asyncio.wait_for(self.source.topics(), within)

    async def run(self) -> None:
        """Batches until cancelled; after a failure (already rewound), again after a
        backoff that doubles while nothing gets committed."""
        delay = self.backoff[0]
        while True:
            before = self.committed
            try:
                await self.batches()
            except Exception:
                metrics.BATCH_FAILURES.labels(self.label).inc()
                log.warning("%s batch rewound, retried in %.1fs", self.label, delay, exc_info=True)
            delay = self.backoff[0] if self.committed > before else delay
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.backoff[1])

    async def batches(self, until_idle: bool = False) -> None:
        """Store batch after batch, the next one decoded while the current one is stored.
        Returns only when ``until_idle`` and the consumer holds nothing more; on any
        failure, rewinds what is not committed and raises."""
        retired: list[object] = []  # released by the worker thread of the next decode
        upcoming = self._decode(await self._fetch(self.wait_ms, wait=not until_idle), retired)
        try:
            while upcoming is not None:
                decoded, offsets = await upcoming
                retired, spare = [], retired
                following = await self._fetch(0)  # only what the consumer already holds
                upcoming = self._decode(following, spare) if following else None
                retired += await self._store(decoded, offsets)
                if upcoming is None and not until_idle:
                    upcoming = self._decode(await self._fetch(self.wait_ms, wait=True), retired)
        except BaseException:
            if upcoming is not None:
                _drop(upcoming)
            self._rewind()
            raise

    async def _fetch(self, timeout_ms: int, *, wait: bool = False) -> Records:
        """The next batch (held until committed); with ``wait``, waits until there is one."""
        while True:
            fetched = await self.source.getmany(timeout_ms=timeout_ms, max_records=self.max_records)
            batch = tuple(chain.from_iterable(fetched.values()))
            if batch:
                self._held.append(_Held(batch))
                return batch
            if not wait:
                return batch

    def _decode(
        self, batch: Records, retired: list[object]
    ) -> "asyncio.Future[tuple[T, Offsets]] | None":
        if not batch:
            return None
        return asyncio.ensure_future(asyncio.to_thread(_decoded, self.decode, batch, retired))

    async def _store(self, decoded: T, offsets: Offsets) -> tuple[object, ...]:
        """Store the oldest batch held, then commit it; what to release after."""
        held = self._held[0]
        metrics.BATCH_RECORDS.labels(self.label).observe(len(held.records))
        started = time.perf_counter()
        await self.store(decoded)
        committed = await self._commit(offsets, held.revoked)
        metrics.BATCH_SECONDS.labels(self.label).observe(time.perf_counter() - started)
        self._held.pop(0)
        self.committed += 1
        self._record_lag(committed)
        return held.records, decoded

    async def _commit(self, offsets: Offsets, revoked: set[TopicPartition]) -> Offsets:
        """Commit the offsets of the partitions still assigned and not revoked since the
        batch was fetched; return them. A revoked partition's new owner reads it again
        from its last commit: the chunk it inserts again is skipped when cut the same way
        (same deduplication token), else stored again as the same versions."""
        assigned = self.source.assignment()
        held = {tp: o for tp, o in offsets.items() if tp in assigned and tp not in revoked}
        if len(held) < len(offsets):
            left = sorted(f"{tp.topic}/{tp.partition}" for tp in offsets.keys() - held.keys())
            log.info("revoked before their commit, left to their new owner: %s", ", ".join(left))
        if held:
            await self.source.commit(held)
        return held

    def _record_lag(self, committed: Offsets) -> None:
        """The lag behind each partition's end once ``committed`` (next offsets) is."""
        try:
            for tp, following in committed.items():
                end = self.source.highwater(tp)
                if end is not None:
                    lag = max(end - following, 0)
                    metrics.CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(lag)
        except Exception:  # bookkeeping (e.g. a partition revoked meanwhile): never a batch
            log.exception("consumer lag not recorded")

    def _rewind(self) -> None:
        """Seek every partition held since the last commit back to its earliest offset
        in those batches, so the next fetch reads them again. A partition no longer
        assigned is left to its new owner, which starts from the committed offset."""
        earliest: dict[TopicPartition, int] = {}
        for batch in reversed(self._held):
            earliest.update(first_offsets(batch.records))
        self._held.clear()
        assigned = self.source.assignment()
        for tp, offset in earliest.items():
            if tp in assigned:
                self.source.seek(tp, offset)
