"""``wellstream-ingestor backfill FILE`` straight to the real broker."""

import asyncio
import gzip
from pathlib import Path

import orjson
import pytest
from aiokafka.partitioner import DefaultPartitioner

from contracts import topics
from ingestor.backfill import main
from tests.integration.ingestor_support import values
from tests.integration.kafka_support import consume

pytestmark = pytest.mark.integration

WELLS, MONTHS = 50, 12


def test_backfill_publishes_a_gzip_ndjson_file(
    settings_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        orjson.dumps({"well_code": w, "production_period": f"2023-{m:02d}", "n": w * 100 + m})
        for m in range(1, MONTHS + 1)
        for w in range(WELLS)
    ]
    lines.insert(7, b"{not json")
    path = tmp_path / "history.ndjson.gz"
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))

    assert main([str(path)]) == 0
    assert f"{WELLS * MONTHS:,} records published" in capsys.readouterr().err

    servers = settings_env["WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS"]
    raw = asyncio.run(consume(servers, settings_env["WELLSTREAM_TOPIC_RAW"], WELLS * MONTHS))
    [dead] = asyncio.run(consume(servers, settings_env["WELLSTREAM_TOPIC_DLQ"], 1))
    assert len(raw) == WELLS * MONTHS
    partitions = sorted({r.partition for r in raw})
    partition_of = DefaultPartitioner()
    for record in raw:  # keyed like any producer's send: one well, one partition
        assert record.partition == partition_of(record.key, partitions, partitions)
    by_well: dict[str, list[str]] = {}
    for record, value in zip(raw, values(raw), strict=True):
        by_well.setdefault(record.key.decode(), []).append(value["production_period"])
    assert all(periods == sorted(periods) for periods in by_well.values())  # order kept
    headers = dict(raw[0].headers)
    assert headers[topics.HEADER_CORRELATION_ID].startswith(b"backfill-")
    assert int(headers[topics.HEADER_ACCEPTED_AT]) > 1_700_000_000_000
    assert orjson.loads(dead.value)["line"] == 8
