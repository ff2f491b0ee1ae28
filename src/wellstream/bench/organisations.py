"""What the visibility filter costs (issue #19: under 10 %): a well's monthly series
read through ``gateway.sql.visible`` against the same query on the bare table, on the
gateway's rows (``bench.gateway``'s load, ``WELLSTREAM_BENCH_ORGANISATIONS_ROWS``,
default 2,000,000).

Two readers: the owner of the rows, and a partner reading them through a share among
``SHARES`` granted to it (the filter's slow path: each row is held to the shares). The
queries run one at a time, filtered and bare in turns, so both see the same machine.
"""

import asyncio
import os
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

from runtime.clickhouse import ClickHouse
from wellstream.bench import gateway
from wellstream.bench.environment import environment
from wellstream.bench.report import Result

ROWS = int(os.environ.get("WELLSTREAM_BENCH_ORGANISATIONS_ROWS", "2000000"))
WELLS_PER_RUN = 200
SHARES = 50
PARTNER = "bench-partner"


def run(records: int, runs: int) -> list[Result]:
    del records  # sized by WELLSTREAM_BENCH_ORGANISATIONS_ROWS
    with environment():
        return asyncio.run(_measure(ROWS, runs))


def bare(query: str) -> str:
    """``query`` reading the table itself: the floor the filter is held to."""
    from gateway import sql

    return query.replace(sql.visible("production"), "production")


async def grant(ch: ClickHouse, wells: list[str]) -> None:
    """``SHARES`` shares of the default organisation's wells to ``PARTNER``."""
    from gateway import sql

    for code in wells[:SHARES]:
        params: dict[str, Any] = {
            "id": uuid.uuid4().hex, "owner": "default", "partner": PARTNER, "kind": "well",
            "code": code, "first_period": date(1900, 1, 1), "last_period": date(2299, 12, 31),
            "created_at": datetime.now(UTC),
        }  # fmt: skip
        await ch.command(sql.SHARE_INSERT, params)


async def timed(ch: ClickHouse, query: str, codes: list[str], reader: dict[str, Any]) -> float:
    """Queries per second of ``query`` over ``codes``, one at a time."""
    from gateway.queries import EARLIEST, LATEST

    started = time.perf_counter()
    for code in codes:
        params = {"code": code, "start": EARLIEST, "end": LATEST, "limit": 501, **reader}
        rows = await ch.rows(query, params)
        assert rows, code
    return len(codes) / (time.perf_counter() - started)


async def _measure(rows: int, runs: int) -> list[Result]:
    from gateway import sql

    ch = await gateway.loaded(os.environ["WELLSTREAM_CLICKHOUSE_URL"], rows)
    codes = [f"BW-{w}" for w in range(gateway.wells_for(rows))]
    await grant(ch, codes)
    query = sql.series("well", "month", after=False)
    readers = {
        "owner": (sql.Viewer("default").params(), codes),
        "partner": (sql.Viewer(PARTNER).params(), codes[:SHARES]),
    }
    figures: dict[str, tuple[list[float], list[float]]] = {r: ([], []) for r in readers}
    await timed(ch, query, codes[:20], readers["owner"][0])  # warm the caches
    for run_no in range(runs):
        for name, (reader, pool) in readers.items():
            sample = [pool[(run_no * WELLS_PER_RUN + i) % len(pool)] for i in range(WELLS_PER_RUN)]
            figures[name][0].append(await timed(ch, query, sample, reader))
            figures[name][1].append(await timed(ch, bare(query), sample, reader))
            print(
                f"   run {run_no + 1} {name}: filtered {figures[name][0][-1]:,.0f}/s, "
                f"bare {figures[name][1][-1]:,.0f}/s",
                flush=True,
            )
    ch.close()
    name = "well series through the filter, {}"
    return [
        Result(name.format(reader), "queries/s", filtered, "bare table", floor, target=1 / 1.1)
        for reader, (filtered, floor) in figures.items()
    ]
