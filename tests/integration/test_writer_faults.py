"""The writer's fault suite: exact accounting (records in = rows read, per well and in
total, 0 lost, 0 doubled) through a replay from offset 0, a ClickHouse outage, kill -9 of
the writer, a second writer joining and leaving the group (two rebalances), kill -9 of the
validator, Redis down for the validator, and a broker restart.

Every case runs at 100k records (``WELLSTREAM_FAULT_RECORDS`` and, for the cases through
the validator, ``WELLSTREAM_FAULT_STACK_RECORDS``). Outages are kept short here (6 s of
ClickHouse, 8 s of Redis); ``python -m wellstream.chaos run`` (``make chaos``) runs the same
cases at 1M records with 30 s outages and prints a table of the counts.
"""

import dataclasses
import os
import re
from pathlib import Path

import pytest

from runtime.clickhouse import ClickHouse
from tests.conftest import Infra
from wellstream import infra as scripts
from wellstream.chaos import cases
from wellstream.chaos import stack as stack_cases

pytestmark = pytest.mark.integration

RECORDS = int(os.environ.get("WELLSTREAM_FAULT_RECORDS", 100_000))


@pytest.fixture
def target(infra: Infra, tmp_path: Path) -> cases.Target:
    return cases.Target(infra.kafka, infra.clickhouse, tmp_path)


def assert_exact(result: cases.Result) -> None:
    assert (result.lost, result.doubled) == (0, 0), result
    assert result.current == result.records == result.versions, result
    assert result.wells_exact, result


async def test_replay_from_offset_zero(target: cases.Target, clickhouse: ClickHouse) -> None:
    result = await cases.replay(target, clickhouse, RECORDS)

    assert_exact(result)


async def test_clickhouse_down_for_longer_than_the_retries(
    target: cases.Target, clickhouse: ClickHouse
) -> None:
    result = await cases.clickhouse_outage(
        target, clickhouse, RECORDS, outage_seconds=6, retry_seconds=2
    )

    assert_exact(result)
    # word boundaries: "10 failed calls" is not "0 failed calls"
    assert not re.search(r"\b0 failed calls", result.note), result.note
    assert not re.search(r"\b0 batches rewound", result.note), "the outage outlasted the retries"


async def test_a_second_writer_joins_and_leaves_mid_stream(
    target: cases.Target, clickhouse: ClickHouse
) -> None:
    result = await cases.rebalance(target, clickhouse, RECORDS)

    assert_exact(result)
    # three partitions: all to the first writer, split on the join, all back on the leave
    moved = re.fullmatch(r"(\d+) partitions assigned, (\d+) revoked", result.note)
    assert moved is not None, result.note
    assert int(moved[1]) >= 6, result.note
    assert int(moved[2]) >= 3, result.note


async def test_kill_9_of_the_writer_mid_stream(target: cases.Target) -> None:
    result = await cases.kill_writer(target, RECORDS)

    assert_exact(result)
    assert not result.note.endswith(f" {RECORDS} committed"), "killed before the end"


#: The cases through the validator (a process of its own) and the writer.
STACK_RECORDS = int(os.environ.get("WELLSTREAM_FAULT_STACK_RECORDS", 100_000))


@pytest.fixture
def stack(infra: Infra, tmp_path: Path) -> stack_cases.Stack:
    return stack_cases.Stack(infra.kafka, infra.clickhouse, tmp_path, infra.redis)


async def test_kill_9_of_the_validator_mid_stream(
    stack: stack_cases.Stack, clickhouse: ClickHouse
) -> None:
    result = await stack_cases.kill_validator(stack, clickhouse, STACK_RECORDS)

    assert_exact(result)
    assert not result.note.startswith(f"killed at {STACK_RECORDS} "), "killed after the end"


async def test_redis_down_for_the_validator(
    stack: stack_cases.Stack, clickhouse: ClickHouse, tmp_path: Path
) -> None:
    with scripts.redis(tmp_path / "redis") as url:
        own = dataclasses.replace(stack, redis_url=url)
        result = await stack_cases.redis_down(
            own, clickhouse, STACK_RECORDS, tmp_path / "redis", down_seconds=8
        )

    assert_exact(result)


async def test_broker_restart_mid_stream(
    stack: stack_cases.Stack, clickhouse: ClickHouse, tmp_path: Path
) -> None:
    with stack_cases.dedicated_kafka(tmp_path / "kafka") as (bootstrap, controller):
        own = dataclasses.replace(stack, bootstrap=bootstrap)
        result = await stack_cases.broker_restart(
            own, clickhouse, STACK_RECORDS, tmp_path / "kafka", controller
        )

    assert_exact(result)
