"""What the visibility filter costs (issue #19: under 10 %): a well's monthly series and
a type curve, read by an organisation and by a partner through its shares, against the
same reads by the platform, whose rule narrows to no condition: the bare table. On the
gateway benchmark's rows (``WELLSTREAM_BENCH_ORGANISATIONS_ROWS``, default 2,000,000),
all the default organisation's.

The partner holds ``WELL_SHARES`` shares of wells, half whole and half over a period
range, and a share of every field, alternately whole and ranged; every range holds all
the rows, so each reader reads the same rows and each pair of figures is like for like
(checked before timing). Two levels, each read one at a time, the reader's and the
platform's read of each code in turn (which goes first alternating), so both meet the
same load on a shared machine:

- engine: the gateway's SQL (``visibility.narrowed`` to the reader) run on ClickHouse,
  after a pass that warms the engine's caches for both;
- end to end: GET requests to the gateway under uvicorn, its cache off, from a client
  process of its own (``httpload``), with each reader's key: what a caller waits for.
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
from wellstream.bench.report import Paired, Result

ROWS = int(os.environ.get("WELLSTREAM_BENCH_ORGANISATIONS_ROWS", "2000000"))
SERIES_PER_RUN = 200
CURVES_PER_RUN = 20
WELL_SHARES = 50
PARTNER = "bench-partner"
#: A share's range that holds every row of the benchmark's (1985 on).
RANGE = (date(1980, 1, 1), date(2099, 12, 31))
KEYS = {
    "owner": ("bench-owner-key-0123456789", "default", ["read"]),
    "partner": ("bench-partner-key-0123456789", PARTNER, ["read"]),
    "platform": ("bench-platform-key-0123456789", "default", ["platform"]),
}
PATHS = {
    "well series": "/api/v1/wells/{}/production",
    "type curve": "/api/v1/type-curves?field_code={}&stream=oil&months=60",
}
Queries = list[tuple[str, dict[str, Any]]]
Figures = dict[str, tuple[list[float], list[float]]]


def run(records: int, runs: int) -> list[Result]:
    del records  # sized by WELLSTREAM_BENCH_ORGANISATIONS_ROWS
    with environment():
        return asyncio.run(_measure(ROWS, runs))


async def grant(ch: ClickHouse, wells: list[str]) -> None:
    """The partner's shares: ``WELL_SHARES`` wells and every field, whole or over
    ``RANGE`` in turns."""
    from gateway.visibility import FIRST, LAST, SHARE_INSERT

    fields = [f"BF-{f}" for f in range(gateway.FIELDS)]
    shared = [("well", code) for code in wells[:WELL_SHARES]] + [("field", f) for f in fields]
    for n, (kind, code) in enumerate(shared):
        first, last = (FIRST, LAST) if n % 2 else RANGE
        params: dict[str, Any] = {
            "id": uuid.uuid4().hex, "owner": "default", "partner": PARTNER, "kind": kind,
            "code": code, "first_period": first, "last_period": last,
            "created_at": datetime.now(UTC),
        }  # fmt: skip
        await ch.command(SHARE_INSERT, params)


async def readers(ch: ClickHouse) -> dict[str, Any]:
    """The three readers as ``deps.Clients.granted`` makes them, the partner's shares read
    from the shares table."""
    from gateway.deps import grants_of
    from gateway.visibility import Viewer

    return {
        "owner": Viewer("default"),
        "partner": Viewer(PARTNER, grants=await grants_of(ch, PARTNER)),
        "platform": Viewer("default", platform=True),
    }


def subjects(codes: list[str], run_no: int) -> dict[str, list[str]]:
    """This run's wells (all shared with the partner) and fields."""
    wells = codes[:WELL_SHARES]
    return {
        "well series": [
            wells[(run_no * SERIES_PER_RUN + i) % len(wells)] for i in range(SERIES_PER_RUN)
        ],
        "type curve": [
            f"BF-{(run_no * CURVES_PER_RUN + i) % gateway.FIELDS}" for i in range(CURVES_PER_RUN)
        ],
    }


def workload(viewer: Any, chosen: dict[str, list[str]]) -> dict[str, Queries]:
    """The series reads and type curves of ``chosen`` as the gateway sends them for
    ``viewer``: the filter narrowed to it."""
    from gateway import sql
    from gateway.queries import EARLIEST, LATEST
    from gateway.visibility import narrowed

    common = {"start": EARLIEST, "end": LATEST}
    selected = sql.selection(field=True, operator=False, basin=False, wells=False)
    series = sql.series("well", "month", after=False)
    curve = sql.type_curve("oil", selected)
    return {
        "well series": [
            narrowed(series, viewer, {"code": w, "limit": 501, **common})
            for w in chosen["well series"]
        ],
        "type curve": [
            narrowed(curve, viewer, {"field": f, "months": 60, **common})
            for f in chosen["type curve"]
        ],
    }


async def paired(ch: ClickHouse, *readers: Queries) -> list[float]:
    """Queries per second of each of ``readers``' queries, one at a time: the ``i``-th
    of each in turn, who goes first alternating with ``i``."""
    spent = [0.0] * len(readers)
    order = list(range(len(readers)))
    for queries in zip(*readers, strict=True):
        order.reverse()
        for reader in order:
            started = time.perf_counter()
            await ch.rows(*queries[reader])
            spent[reader] += time.perf_counter() - started
    return [len(queries) / seconds for queries, seconds in zip(readers, spent, strict=True)]


async def like_for_like(ch: ClickHouse, viewers: dict[str, Any], codes: list[str]) -> None:
    """Each reader reads the same rows as the platform: else the figures compare unlike
    work."""
    reads = {name: workload(viewer, subjects(codes, 0)) for name, viewer in viewers.items()}
    for read, queries in reads["platform"].items():
        floor = [_rounded(await ch.rows(q, p)) for q, p in queries[:5]]
        for name in ("owner", "partner"):
            got = [_rounded(await ch.rows(q, p)) for q, p in reads[name][read][:5]]
            if got != floor or not all(floor):
                raise RuntimeError(f"{name}'s {read} differs from the platform's")


def _rounded(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """``rows`` with floats to 9 significant digits: sums over threads differ in the last."""
    return [tuple(float(f"{v:.9g}") if isinstance(v, float) else v for v in r) for r in rows]


async def engine(
    ch: ClickHouse, viewers: dict[str, Any], codes: list[str], run_no: int, figures: Figures
) -> None:
    chosen = subjects(codes, run_no)
    floor_reads = workload(viewers["platform"], chosen)
    for name in ("owner", "partner"):
        for read, through in workload(viewers[name], chosen).items():
            filtered, floor = figures.setdefault(f"{read}, {name}, engine", ([], []))
            await paired(ch, through, floor_reads[read])  # warm both
            rates = await paired(ch, through, floor_reads[read])
            filtered.append(rates[0])
            floor.append(rates[1])
            _progress(run_no, f"{read}, {name}, engine", filtered[-1], floor[-1], "queries")


async def end_to_end(port: int, codes: list[str], run_no: int, figures: Figures) -> None:
    chosen = subjects(codes, run_no)
    for name in ("owner", "partner"):
        for read, path in PATHS.items():
            filtered, floor = figures.setdefault(f"{read}, {name}, end to end", ([], []))
            keys = (KEYS[name][0], KEYS["platform"][0])
            asking = gateway.Asking(key=keys, path=path, connections=1)
            summary = await gateway.clients(port, "misses", chosen[read], run_no, asking)
            reader, platform = (k["requests"] / k["seconds"] for k in summary["keys"])
            filtered.append(reader)
            floor.append(platform)
            _progress(run_no, f"{read}, {name}, end to end", filtered[-1], floor[-1], "requests")


def _progress(run_no: int, what: str, filtered: float, floor: float, unit: str) -> None:
    print(
        f"   run {run_no + 1} {what}: filtered {filtered:,.1f} {unit}/s, platform {floor:,.1f}/s",
        flush=True,
    )


async def _measure(rows: int, runs: int) -> list[Result]:
    ch = await gateway.loaded(os.environ["WELLSTREAM_CLICKHOUSE_URL"], rows)
    codes = [f"BW-{w}" for w in range(gateway.wells_for(rows))]
    await grant(ch, codes)
    viewers = await readers(ch)
    await like_for_like(ch, viewers, codes)
    figures: Figures = {}
    keys = [
        {"name": name, "key": key, "scopes": scopes, "organisation": organisation}
        for name, (key, organisation, scopes) in KEYS.items()
    ]
    async with gateway.serve(gateway.settings_for(cache=False, keys=keys)) as port:
        for run_no in range(runs):
            await engine(ch, viewers, codes, run_no, figures)
            await end_to_end(port, codes, run_no, figures)
    ch.close()
    return [
        Paired(f"{what}, through the filter", unit, filtered, "platform (no filter)", floor,
               target=1 / 1.1)
        for what, (filtered, floor) in figures.items()
        for unit in ["queries/s" if what.endswith("engine") else "requests/s"]
    ]  # fmt: skip
