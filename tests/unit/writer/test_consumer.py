"""The consumer loop: batches in a row, the next one decoded while the current one is
stored, offsets committed batch by batch after the store, a failure rewinds what is not
committed and the loop starts again."""

import asyncio
import sys
import threading
from collections.abc import Sequence
from typing import Any

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import IllegalStateError
from prometheus_client import REGISTRY

from writer import consumer
from writer.consumer import Loop


def records(partition: int, offsets: range) -> list[ConsumerRecord]:
    return [ConsumerRecord("t", partition, o, 0, 0, None, b"{}", None, 0, 2, ()) for o in offsets]


class Consumer:
    """The consumer as the loop sees it: batches it holds, commits, seeks."""

    def __init__(self, held: Sequence[Sequence[ConsumerRecord]], assigned: set[int]) -> None:
        self.held = list(held)
        self.assigned = {TopicPartition("t", p) for p in assigned}
        self.commits: list[dict[TopicPartition, int]] = []
        self.seeks: dict[TopicPartition, int] = {}
        self.fail_commit = False
        self.fail_fetch_after: int | None = None
        self.fetches: list[int] = []
        self.events: list[str] = []
        self.started = self.stopped = False
        self.ends: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def topics(self) -> set[str]:
        return {"t"}

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[ConsumerRecord]]:
        assert max_records == 100
        if self.fail_fetch_after is not None and len(self.fetches) >= self.fail_fetch_after:
            raise RuntimeError("consumer stopped")
        self.fetches.append(timeout_ms)
        if not self.held:
            await asyncio.sleep(timeout_ms / 1000)
            return {}
        by_partition: dict[TopicPartition, list[ConsumerRecord]] = {}
        for msg in self.held.pop(0):
            by_partition.setdefault(TopicPartition(msg.topic, msg.partition), []).append(msg)
        return by_partition

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.fail_commit:
            raise RuntimeError("rebalance in progress")
        if not offsets.keys() <= self.assigned:  # as aiokafka refuses them
            raise IllegalStateError(f"not assigned: {offsets.keys() - self.assigned}")
        self.commits.append(offsets)
        self.events.append("commit " + " ".join(f"{tp.partition}:{o}" for tp, o in offsets.items()))

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.seeks[partition] = offset

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    def highwater(self, partition: TopicPartition) -> int | None:
        if partition not in self.assigned:
            raise IllegalStateError("partition not assigned")
        return self.ends.get(partition)


def tp(partition: int) -> TopicPartition:
    return TopicPartition("t", partition)


class Work:
    """decode and store, recording the order of events; store fails on a given batch."""

    def __init__(self, fail_on: int | None = None, fail_decode_on: int | None = None) -> None:
        self.events: list[str] = []
        self.fail_on = fail_on
        self.fail_decode_on = fail_decode_on
        self.lock = threading.Lock()
        self.stored: list[int] = []

    def decode(self, batch: Sequence[ConsumerRecord]) -> Any:
        first = batch[0].offset
        with self.lock:
            self.events.append(f"decode {first}")
        if first == self.fail_decode_on:
            raise ValueError("cannot decode")
        return batch

    async def store(self, batch: Sequence[ConsumerRecord]) -> None:
        first = batch[0].offset
        self.events.append(f"store {first}")
        await asyncio.sleep(0.05)  # an insert: the next batch is decoded meanwhile
        if first == self.fail_on:
            raise ConnectionError("ClickHouse is down")
        self.events.append(f"stored {first}")
        self.stored.append(first)


def loop_over(source: Consumer, work: Work) -> Loop[Any]:
    running = Loop(source, work.decode, work.store, label="t", max_records=100, wait_ms=10)
    running.backoff = (0.01, 0.05)
    return running


async def test_held_batches_are_stored_in_turn_each_committed_after_its_store() -> None:
    source = Consumer(
        [records(0, range(0, 10)), records(0, range(10, 20)), records(1, range(0, 5))], {0, 1}
    )
    work = Work()
    source.events = work.events

    running = loop_over(source, work)
    await running.batches(until_idle=True)

    assert running.committed == 3
    assert source.commits == [{tp(0): 10}, {tp(0): 20}, {tp(1): 5}]
    # A batch is committed once stored, never before.
    for stored, commit in [("stored 0", "commit 0:10"), ("stored 10", "commit 0:20")]:
        assert work.events.index(stored) < work.events.index(commit)
    # Each batch is decoded before the one ahead of it is stored: they overlap.
    assert work.events.index("decode 10") < work.events.index("stored 0")
    assert work.events.index("decode 0", 1) < work.events.index("stored 10")
    # Only the first fetch waits for the broker; the next ones take what is held.
    assert source.fetches[0] == 10
    assert set(source.fetches[1:]) == {0}
    assert source.seeks == {}


async def test_a_failed_store_commits_no_more_and_rewinds_every_uncommitted_partition() -> None:
    # The second batch fails; the third was already taken from the consumer.
    following = [*records(1, range(0, 4)), *records(0, range(20, 25))]
    source = Consumer([records(0, range(0, 10)), records(0, range(10, 20)), following], {0, 1})
    work = Work(fail_on=10)

    with pytest.raises(ConnectionError):
        await loop_over(source, work).batches(until_idle=True)

    assert source.commits == [{tp(0): 10}]
    # Partition 0 back to the failed batch, partition 1 to the batch behind it.
    assert source.seeks == {tp(0): 10, tp(1): 0}


async def test_a_failed_commit_rewinds_the_stored_batch() -> None:
    source = Consumer([records(0, range(5, 9))], {0})
    source.fail_commit = True

    with pytest.raises(RuntimeError, match="rebalance"):
        await loop_over(source, Work()).batches(until_idle=True)

    assert source.seeks == {tp(0): 5}


async def test_a_failed_fetch_rewinds_the_batch_it_holds() -> None:
    source = Consumer([records(0, range(4, 8))], {0})
    source.fail_fetch_after = 1

    with pytest.raises(RuntimeError, match="stopped"):
        await loop_over(source, Work()).batches(until_idle=True)

    assert (source.commits, source.seeks) == ([], {tp(0): 4})


async def test_partitions_no_longer_assigned_are_left_to_their_new_owner() -> None:
    source = Consumer([[*records(0, range(0, 3)), *records(1, range(7, 9))]], {1})

    with pytest.raises(ConnectionError):
        await loop_over(source, Work(fail_on=0)).batches(until_idle=True)

    assert source.seeks == {tp(1): 7}


async def test_a_partition_revoked_while_its_batch_was_stored_is_left_out_of_the_commit() -> None:
    # Partition 0 was revoked while the batch was stored; partition 1 stays.
    batch = [*records(0, range(0, 3)), *records(1, range(7, 9))]
    source = Consumer([batch, records(1, range(9, 12))], {1})

    running = loop_over(source, Work())
    await running.batches(until_idle=True)

    assert running.committed == 2
    assert source.commits == [{tp(1): 9}, {tp(1): 12}]
    assert source.seeks == {}


async def test_a_partition_revoked_and_assigned_again_is_not_committed_for_its_old_batch() -> None:
    # The rebalance listener hears of the revocation while the batch is stored; the
    # partition comes back, read again from its last commit.
    source = Consumer([records(0, range(0, 3))], {0})
    work = Work()
    running = loop_over(source, work)

    async def store(batch: Sequence[ConsumerRecord]) -> None:
        await running.listener.on_partitions_revoked({tp(0)})
        await running.listener.on_partitions_assigned({tp(0)})
        await work.store(batch)

    running.store = store
    await running.batches(until_idle=True)

    assert (running.committed, source.commits) == (1, [])


async def test_a_batch_whose_partitions_were_all_revoked_commits_nothing() -> None:
    source = Consumer([records(0, range(0, 3))], set())

    running = loop_over(source, Work())
    await running.batches(until_idle=True)

    assert (running.committed, source.commits, source.seeks) == (1, [], {})


async def test_a_batch_that_cannot_be_decoded_is_rewound_after_the_one_before_commits() -> None:
    source = Consumer([records(0, range(0, 3)), records(0, range(3, 6))], {0})

    with pytest.raises(ValueError, match="decode"):
        await loop_over(source, Work(fail_decode_on=3)).batches(until_idle=True)

    assert source.commits == [{tp(0): 3}]
    assert source.seeks == {tp(0): 3}


async def test_a_batch_that_cannot_be_decoded_first_is_rewound() -> None:
    source = Consumer([records(0, range(0, 3))], {0})

    with pytest.raises(ValueError, match="decode"):
        await loop_over(source, Work(fail_decode_on=0)).batches(until_idle=True)

    assert (source.commits, source.seeks) == ([], {tp(0): 0})


async def test_a_cancelled_store_rewinds_what_it_held() -> None:
    source = Consumer([records(0, range(0, 3)), records(0, range(3, 6))], {0})
    task = asyncio.ensure_future(loop_over(source, Work()).batches(until_idle=True))
    await asyncio.sleep(0.02)  # inside the first store
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task

    assert (source.commits, source.seeks) == ([], {tp(0): 0})


async def test_a_failing_lag_reading_costs_no_batch() -> None:
    source = Consumer([records(0, range(0, 3)), records(0, range(3, 6))], {0})
    source.highwater = lambda partition: 1 // 0  # type: ignore[method-assign]

    running = loop_over(source, Work())
    await running.batches(until_idle=True)

    assert running.committed == 2
    assert source.commits == [{tp(0): 3}, {tp(0): 6}]


async def test_the_lag_behind_the_end_is_recorded_after_each_commit() -> None:
    source = Consumer([records(7, range(0, 3))], {7})
    source.assigned = {TopicPartition("t", 7)}
    source.ends = {TopicPartition("t", 7): 10}

    await loop_over(source, Work()).batches(until_idle=True)

    lag = REGISTRY.get_sample_value(
        "wellstream_writer_consumer_lag", {"topic": "t", "partition": "7"}
    )
    assert lag == 7


async def test_the_loop_starts_again_after_a_failure_and_stops_cleanly() -> None:
    source = Consumer([records(0, range(0, 3))], {0})
    work = Work(fail_on=0)
    running = loop_over(source, work)
    rewound = REGISTRY.get_sample_value("wellstream_writer_batch_failures_total", {"topic": "t"})

    await running.start()
    for _ in range(100):
        if source.seeks:
            break
        await asyncio.sleep(0.01)
    # ClickHouse is back: the rewound batch is read again (as the consumer would after
    # the seek) and committed.
    work.fail_on = None
    source.held.append(records(0, range(0, 3)))
    for _ in range(100):
        if source.commits:
            break
        await asyncio.sleep(0.01)
    await running.ping()
    await running.stop()

    assert source.started
    assert source.stopped
    assert source.seeks == {tp(0): 0}
    assert source.commits == [{tp(0): 3}]
    after = REGISTRY.get_sample_value("wellstream_writer_batch_failures_total", {"topic": "t"})
    assert (after or 0) - (rewound or 0) == 1


class Freed:
    """Notes the thread that releases it."""

    def __init__(self, offset: int, threads: dict[int, str]) -> None:
        self.offset, self.threads = offset, threads

    def __del__(self) -> None:
        self.threads[self.offset] = threading.current_thread().name


async def test_stored_batches_are_released_by_a_worker_thread_not_between_inserts() -> None:
    source = Consumer([records(0, range(n, n + 5)) for n in (0, 5, 10, 15)], {0})
    freed_by: dict[int, str] = {}
    work = Work()

    def decode(batch: Sequence[ConsumerRecord]) -> Any:
        work.decode(batch)
        return [batch, Freed(batch[0].offset, freed_by)]

    async def store(decoded: list[Any]) -> None:
        await work.store(decoded[0])

    running = Loop(source, decode, store, label="t", max_records=100, wait_ms=10)
    await running.batches(until_idle=True)

    assert running.committed == 4
    # What was decoded for batch 0 is released while batch 10 is decoded, batch 5's
    # while batch 15 is; the last ones go when the call returns.
    main = threading.main_thread().name
    assert freed_by[0] != main
    assert freed_by[5] != main


def test_the_switch_interval_is_short_while_the_writer_runs_and_restored_after() -> None:
    before = sys.getswitchinterval()
    with consumer.short_switch_interval():
        assert sys.getswitchinterval() == min(before, consumer.SWITCH_INTERVAL)
    assert sys.getswitchinterval() == before


def test_offsets_are_taken_per_partition_from_an_interleaved_batch() -> None:
    batch = [*records(0, range(5, 7)), *records(1, range(2, 4))]
    interleaved = [batch[0], batch[2], batch[1], batch[3]]

    assert consumer.first_offsets(interleaved) == {tp(0): 5, tp(1): 2}
    assert consumer.next_offsets(interleaved) == {tp(0): 7, tp(1): 4}
    assert consumer.next_offsets([]) == {}
