"""Batches in a row: the next one decoded while the current one is stored, offsets
committed batch by batch after the store, and a failure rewinds what is not committed."""

import asyncio
import sys
import threading
from collections.abc import Sequence

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import IllegalStateError

from writer import stream
from writer.pipeline import Prepared


def records(partition: int, offsets: range) -> list[ConsumerRecord]:
    return [ConsumerRecord("t", partition, o, 0, 0, None, b"{}", None, 0, 2, ()) for o in offsets]


class Consumer:
    """The consumer as the loop sees it: batches it already holds, commits, seeks."""

    def __init__(self, held: Sequence[Sequence[ConsumerRecord]], assigned: set[int]) -> None:
        self.held = list(held)
        self.assigned = {TopicPartition("t", p) for p in assigned}
        self.commits: list[dict[TopicPartition, int]] = []
        self.seeks: dict[TopicPartition, int] = {}
        self.fail_commit = False
        self.fail_fetch = False
        self.events: list[str] = []

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[ConsumerRecord]]:
        assert timeout_ms == 0, "the loop never waits for a batch"
        if self.fail_fetch:
            raise RuntimeError("consumer stopped")
        if not self.held:
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


def tp(partition: int) -> TopicPartition:
    return TopicPartition("t", partition)


class Work:
    """prepare and store, recording the order of events; store fails on a given batch."""

    def __init__(self, fail_on: int | None = None, fail_prepare_on: int | None = None) -> None:
        self.events: list[str] = []
        self.fail_on = fail_on
        self.fail_prepare_on = fail_prepare_on
        self.lock = threading.Lock()

    def prepare(self, batch: Sequence[ConsumerRecord]) -> Prepared:
        first = batch[0].offset
        with self.lock:
            self.events.append(f"prepare {first}")
        if first == self.fail_prepare_on:
            raise ValueError("cannot decode")
        return Prepared(batch, [])

    async def store(self, prepared: Prepared) -> None:
        first = prepared.batch[0].offset
        self.events.append(f"store {first}")
        await asyncio.sleep(0.05)  # an insert: the next batch is prepared meanwhile
        if first == self.fail_on:
            raise ConnectionError("ClickHouse is down")
        self.events.append(f"stored {first}")


async def test_held_batches_are_stored_in_turn_each_committed_after_its_store() -> None:
    consumer = Consumer([records(0, range(10, 20)), records(1, range(0, 5))], {0, 1})
    work = Work()
    consumer.events = work.events
    committed: list[stream.Offsets] = []

    done = await stream.run(
        records(0, range(0, 10)),
        consumer,
        work.prepare,
        work.store,
        max_records=100,
        committed=committed.append,
    )

    assert done == 3
    assert consumer.commits == [{tp(0): 10}, {tp(0): 20}, {tp(1): 5}]
    assert committed == consumer.commits
    # A batch is committed once stored, never before.
    for stored, commit in [("stored 0", "commit 0:10"), ("stored 10", "commit 0:20")]:
        assert work.events.index(stored) < work.events.index(commit)
    # Each batch is prepared before the one ahead of it is stored: they overlap.
    assert work.events.index("prepare 10") < work.events.index("stored 0")
    assert work.events.index("prepare 0", 1) < work.events.index("stored 10")
    assert consumer.seeks == {}


async def test_a_failed_store_commits_no_more_and_rewinds_every_uncommitted_partition() -> None:
    # The second batch fails; the third was already taken from the consumer.
    following = [*records(1, range(0, 4)), *records(0, range(20, 25))]
    consumer = Consumer([records(0, range(10, 20)), following], {0, 1})
    work = Work(fail_on=10)

    with pytest.raises(ConnectionError):
        await stream.run(
            records(0, range(0, 10)), consumer, work.prepare, work.store, max_records=100
        )

    assert consumer.commits == [{tp(0): 10}]
    # Partition 0 back to the failed batch, partition 1 to the batch behind it.
    assert consumer.seeks == {tp(0): 10, tp(1): 0}


async def test_a_failed_commit_rewinds_the_stored_batch() -> None:
    consumer = Consumer([], {0})
    consumer.fail_commit = True

    with pytest.raises(RuntimeError, match="rebalance"):
        await stream.run(
            records(0, range(5, 9)), consumer, Work().prepare, Work().store, max_records=100
        )

    assert consumer.seeks == {tp(0): 5}


async def test_a_failed_fetch_rewinds_the_batch_it_holds() -> None:
    consumer = Consumer([], {0})
    consumer.fail_fetch = True
    work = Work()

    with pytest.raises(RuntimeError, match="stopped"):
        await stream.run(
            records(0, range(4, 8)), consumer, work.prepare, work.store, max_records=100
        )

    assert (consumer.commits, consumer.seeks) == ([], {tp(0): 4})


async def test_partitions_no_longer_assigned_are_left_to_their_new_owner() -> None:
    consumer = Consumer([], {1})
    work = Work(fail_on=0)
    batch = [*records(0, range(0, 3)), *records(1, range(7, 9))]

    with pytest.raises(ConnectionError):
        await stream.run(batch, consumer, work.prepare, work.store, max_records=100)

    assert consumer.seeks == {tp(1): 7}


async def test_a_partition_revoked_while_its_batch_was_stored_is_left_out_of_the_commit() -> None:
    # Partition 0 was revoked while the batch was stored; partition 1 stays.
    consumer = Consumer([records(1, range(9, 12))], {1})
    work = Work()
    committed: list[stream.Offsets] = []
    batch = [*records(0, range(0, 3)), *records(1, range(7, 9))]

    done = await stream.run(
        batch, consumer, work.prepare, work.store, max_records=100, committed=committed.append
    )

    assert done == 2
    assert consumer.commits == [{tp(1): 9}, {tp(1): 12}]
    assert committed == consumer.commits
    assert consumer.seeks == {}


async def test_a_batch_whose_partitions_were_all_revoked_commits_nothing() -> None:
    consumer = Consumer([], set())

    done = await stream.run(
        records(0, range(0, 3)), consumer, Work().prepare, Work().store, max_records=100
    )

    assert (done, consumer.commits, consumer.seeks) == (1, [], {})


async def test_a_batch_that_cannot_be_prepared_is_rewound_after_the_one_before_commits() -> None:
    consumer = Consumer([records(0, range(3, 6))], {0})
    work = Work(fail_prepare_on=3)

    with pytest.raises(ValueError, match="decode"):
        await stream.run(
            records(0, range(0, 3)), consumer, work.prepare, work.store, max_records=100
        )

    assert consumer.commits == [{tp(0): 3}]
    assert consumer.seeks == {tp(0): 3}


async def test_past_its_time_a_call_takes_no_further_batch() -> None:
    consumer = Consumer([records(0, range(3, 6))], {0})
    work = Work()

    done = await stream.run(
        records(0, range(0, 3)), consumer, work.prepare, work.store, max_records=100, run_seconds=0
    )

    assert done == 1
    assert consumer.commits == [{tp(0): 3}]
    assert len(consumer.held) == 1  # left for the next call


async def test_a_cancelled_store_rewinds_what_it_held() -> None:
    consumer = Consumer([records(0, range(3, 6))], {0})
    work = Work()
    task = asyncio.ensure_future(
        stream.run(records(0, range(0, 3)), consumer, work.prepare, work.store, max_records=100)
    )
    await asyncio.sleep(0.02)  # inside the first store
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task

    assert (consumer.commits, consumer.seeks) == ([], {tp(0): 0})


async def test_a_batch_that_cannot_be_prepared_first_is_rewound() -> None:
    consumer = Consumer([], {0})
    work = Work(fail_prepare_on=0)

    with pytest.raises(ValueError, match="decode"):
        await stream.run(
            records(0, range(0, 3)), consumer, work.prepare, work.store, max_records=100
        )

    assert (consumer.commits, consumer.seeks) == ([], {tp(0): 0})


async def test_a_failing_after_commit_callback_costs_no_batch() -> None:
    consumer = Consumer([records(0, range(3, 6))], {0})
    work = Work()

    def committed(offsets: stream.Offsets) -> None:
        raise AssertionError("partition not assigned")

    done = await stream.run(
        records(0, range(0, 3)),
        consumer,
        work.prepare,
        work.store,
        max_records=100,
        committed=committed,
    )

    assert done == 2
    assert consumer.commits == [{tp(0): 3}, {tp(0): 6}]


class Freed:
    """Notes the thread that releases it."""

    def __init__(self, offset: int, threads: dict[int, str]) -> None:
        self.offset, self.threads = offset, threads

    def __del__(self) -> None:
        self.threads[self.offset] = threading.current_thread().name


async def test_stored_batches_are_released_by_a_worker_thread_not_between_inserts() -> None:
    consumer = Consumer([records(0, range(n, n + 5)) for n in (5, 10, 15)], {0})
    freed_by: dict[int, str] = {}
    work = Work()

    def prepare(batch: Sequence[ConsumerRecord]) -> Prepared:
        work.prepare(batch)
        return Prepared(batch, [([], Freed(batch[0].offset, freed_by))])  # type: ignore[list-item]

    done = await stream.run(records(0, range(0, 5)), consumer, prepare, work.store, max_records=100)

    assert done == 4
    # What was prepared for batch 0 is released while batch 10 is prepared, batch 5's
    # while batch 15 is; the last ones go when the call returns.
    main = threading.main_thread().name
    assert freed_by[0] != main
    assert freed_by[5] != main


def test_the_switch_interval_is_short_while_the_writer_runs_and_restored_after() -> None:
    before = sys.getswitchinterval()
    with stream.short_switch_interval():
        assert sys.getswitchinterval() == min(before, stream.SWITCH_INTERVAL)
    assert sys.getswitchinterval() == before


def test_offsets_are_taken_per_partition_from_an_interleaved_batch() -> None:
    batch = [*records(0, range(5, 7)), *records(1, range(2, 4))]
    interleaved = [batch[0], batch[2], batch[1], batch[3]]

    assert stream.first_offsets(interleaved) == {tp(0): 5, tp(1): 2}
    assert stream.next_offsets(interleaved) == {tp(0): 7, tp(1): 4}
    assert stream.next_offsets([]) == {}
