"""What the visibility filter costs (issue #19: under 10 %): a well's monthly series and
a type curve read as the gateway reads them (``visibility.visible``, narrowed to the
reader) against the same queries on the bare table, on the gateway benchmark's rows
(``WELLSTREAM_BENCH_ORGANISATIONS_ROWS``, default 2,000,000).

Two readers: the owner of the rows, and a partner reading them through ``SHARES`` shares
of wells granted to it (its rows are held to the shares). The queries run one at a time,
filtered and bare in turns (each first every other run, after a pass that warms the
engine's caches for both), so both see the same machine.
"""

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from runtime.clickhouse import ClickHouse
from wellstream.bench import gateway
from wellstream.bench.environment import environment
from wellstream.bench.report import Result

ROWS = int(os.environ.get("WELLSTREAM_BENCH_ORGANISATIONS_ROWS", "2000000"))
SERIES_PER_RUN = 200
CURVES_PER_RUN = 10
SHARES = 50
PARTNER = "bench-partner"


def run(records: int, runs: int) -> list[Result]:
    del records  # sized by WELLSTREAM_BENCH_ORGANISATIONS_ROWS
    with environment():
        return asyncio.run(_measure(ROWS, runs))


def bare(query: str) -> str:
    """``query`` reading the table itself: the floor the filter is held to."""
    from gateway.visibility import visible

    return query.replace(visible("production"), "FROM production WHERE (1)")


async def grant(ch: ClickHouse, wells: list[str]) -> None:
    """``SHARES`` shares of the default organisation's wells to ``PARTNER``, the first
    half whole, the others from 2000 on."""
    from gateway.visibility import FIRST, LAST, SHARE_INSERT

    for n, code in enumerate(wells[:SHARES]):
        first = FIRST if n < SHARES // 2 else datetime(2000, 1, 1).date()
        params: dict[str, Any] = {
            "id": uuid.uuid4().hex, "owner": "default", "partner": PARTNER, "kind": "well",
            "code": code, "first_period": first, "last_period": LAST,
            "created_at": datetime.now(UTC),
        }  # fmt: skip
        await ch.command(SHARE_INSERT, params)


async def timed(ch: ClickHouse, queries: list[tuple[str, dict[str, Any]]]) -> float:
    """Queries per second over ``queries``, one at a time."""
    started = time.perf_counter()
    for query, params in queries:
        await ch.rows(query, params)
    return len(queries) / (time.perf_counter() - started)


async def readers(ch: ClickHouse) -> dict[str, Any]:
    """The owner, and the partner with its shares, as ``deps.Clients.granted`` reads them."""
    from gateway.visibility import GRANTS, Viewer

    grants = tuple(tuple(row) for row in await ch.rows(GRANTS, {"viewer": PARTNER}))
    return {"owner": Viewer("default"), "partner": Viewer(PARTNER, grants=grants)}


Queries = list[tuple[str, dict[str, Any]]]


def workload(viewer: Any, codes: list[str], run_no: int) -> dict[str, tuple[Queries, Queries]]:
    """This run's series reads and type curves for ``viewer``: as the gateway sends them
    (the filter narrowed to the reader), and the same on the bare table."""
    from gateway import sql
    from gateway.queries import EARLIEST, LATEST
    from gateway.visibility import narrowed

    selected = sql.selection(field=True, operator=False, basin=False, wells=False)
    common = {"start": EARLIEST, "end": LATEST, **viewer.params()}
    wells = [codes[(run_no * SERIES_PER_RUN + i) % len(codes)] for i in range(SERIES_PER_RUN)]
    fields = [f"BF-{(run_no * CURVES_PER_RUN + i) % gateway.FIELDS}" for i in range(CURVES_PER_RUN)]
    reads = {
        "well series": (
            sql.series("well", "month", after=False),
            [{"code": w, "limit": 501, **common} for w in wells],
        ),
        "type curve": (
            sql.type_curve("oil", selected),
            [{"field": f, "months": 60, **common} for f in fields],
        ),
    }
    return {
        read: ([(narrowed(q, viewer), p) for p in ps], [(bare(q), p) for p in ps])
        for read, (q, ps) in reads.items()
    }


async def _measure(rows: int, runs: int) -> list[Result]:
    ch = await gateway.loaded(os.environ["WELLSTREAM_CLICKHOUSE_URL"], rows)
    codes = [f"BW-{w}" for w in range(gateway.wells_for(rows))]
    await grant(ch, codes)
    figures: dict[str, tuple[list[float], list[float]]] = {}
    for run_no in range(runs):
        for name, viewer in (await readers(ch)).items():
            own = codes if name == "owner" else codes[:SHARES]
            for read, (through, without) in workload(viewer, own, run_no).items():
                filtered, floor = figures.setdefault(f"{read}, {name}", ([], []))
                await timed(ch, through + without)  # warm both
                if run_no % 2:
                    floor.append(await timed(ch, without))
                    filtered.append(await timed(ch, through))
                else:
                    filtered.append(await timed(ch, through))
                    floor.append(await timed(ch, without))
                print(
                    f"   run {run_no + 1} {read}, {name}: filtered {filtered[-1]:,.1f}/s,"
                    f" bare {floor[-1]:,.1f}/s",
                    flush=True,
                )
    ch.close()
    return [
        Result(
            f"{read} through the filter", "queries/s", filtered, "bare table", floor, target=1 / 1.1
        )
        for read, (filtered, floor) in figures.items()
    ]
