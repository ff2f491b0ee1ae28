"""The writer's fault suite: exact accounting (records in = rows read, per well and in
total) through a replay, a ClickHouse outage and a kill -9 of the writer process.

``WELLSTREAM_FAULT_RECORDS`` sets the size (default 100k); ``python -m writer.chaos run``
runs the same cases at 1M.
"""

import os
from pathlib import Path

import pytest

from runtime.clickhouse import ClickHouse
from tests.conftest import Infra
from writer.chaos import cases

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
    assert "0 failed calls" not in result.note, result.note
    assert "0 batches rewound" not in result.note, "the outage outlasted the retries"


async def test_kill_9_of_the_writer_mid_stream(target: cases.Target) -> None:
    result = await cases.kill_writer(target, RECORDS)

    assert_exact(result)
    assert not result.note.endswith(f" {RECORDS} committed"), "killed before the end"
