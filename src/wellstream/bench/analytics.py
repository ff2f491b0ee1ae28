"""The analytics' latency, uncached, with ``WELLSTREAM_BENCH_GATEWAY_ROWS`` rows loaded
(10M by default, as the gateway benchmark loads them): a well's decline fit over 20 years
of monthly data (target < 50 ms) and a type curve over 1,000 wells (target < 500 ms),
each a GET to the real app under uvicorn with the cache off, timed at the client.

The declining well is generated from a known hyperbolic (5 % noise) and inserted beside
the load; the type curve aligns the wells of one field of the load, about 1,000.
"""

import asyncio
import os
import statistics
import time
from datetime import date

import httpx
import numpy as np

from runtime.clickhouse import ClickHouse
from wellstream.bench import gateway
from wellstream.bench.environment import environment
from wellstream.bench.report import Result, Timing

CALLS = 15
WELL = "BENCH-DECLINE-1"


def run(records: int, runs: int) -> list[Result]:
    del records  # sized by WELLSTREAM_BENCH_GATEWAY_ROWS
    with environment():
        return asyncio.run(_measure(gateway.ROWS, runs))


async def insert_declining_well(ch: ClickHouse, months: int = 240) -> None:
    """A hyperbolic well (qi 1,000 bbl/d, Di 1.5/yr nominal, b 0.8) with 5 % noise."""
    from gateway.decline import Curve
    from gateway.forecast import next_month

    starts = [date(2004, 1, 1)]
    for _ in range(months):
        starts.append(next_month(starts[-1]))
    edges = np.asarray([(d - starts[0]).days for d in starts], float)
    volumes = np.diff(Curve("hyperbolic", 1000.0, 1.5, 0.8, None).cum(edges))
    volumes *= 1 + 0.05 * np.random.default_rng(1).standard_normal(months)
    columns = ["record_id", "version", "well_code", "field_code", "period", "period_start",
               "period_type", "days_in_period", "oil_bbl", "data_source"]  # fmt: skip
    rows = [
        [f"{WELL}|{d:%Y-%m}", 1, WELL, "BF-DECLINE", f"{d:%Y-%m}", d, "month",
         (n - d).days, float(v), "bench"]
        for d, n, v in zip(starts, starts[1:], volumes, strict=False)
    ]  # fmt: skip
    await ch.insert("production", [list(c) for c in zip(*rows, strict=True)], columns)


async def timed(client: httpx.AsyncClient, url: str, calls: int = CALLS) -> float:
    """The median milliseconds of ``calls`` GETs of ``url`` (each answered 200)."""
    found = []
    for _ in range(calls):
        started = time.perf_counter()
        response = await client.get(url)
        found.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url[:80]} answered {response.status_code}: {response.text}")
    return statistics.median(found)


async def _measure(rows: int, runs: int) -> list[Result]:
    ch = await gateway.loaded(os.environ["WELLSTREAM_CLICKHOUSE_URL"], rows)
    await insert_declining_well(ch)
    # A field's wells (BW-w with w % FIELDS == 0), as an asset team selects them; a list
    # of 1,000 codes would pass the URL's limit (``wells`` takes 5,000 characters).
    type_wells = len(range(0, gateway.wells_for(rows), gateway.FIELDS))
    urls = {
        "hyperbolic": f"/api/v1/wells/{WELL}/decline?model=hyperbolic",
        "auto": f"/api/v1/wells/{WELL}/decline?model=auto",
        "type": "/api/v1/type-curves?field_code=BF-0&months=60",
    }
    found: dict[str, list[float]] = {k: [] for k in urls}
    async with gateway.serve(gateway.settings_for(cache=False)) as port:
        headers = {"X-API-Key": gateway.KEY}
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
            for run_no in range(runs):
                for name, url in urls.items():
                    found[name].append(await timed(client, url))
                print(f"   run {run_no + 1}: " + ", ".join(
                    f"{k} {v[-1]:.1f} ms" for k, v in found.items()), flush=True)  # fmt: skip
    ch.close()
    return [
        Timing("decline fit, 20 years monthly, hyperbolic, uncached", "ms", found["hyperbolic"],
               limit_ms=50.0),
        Timing("decline fit, 20 years monthly, auto (4 models), uncached", "ms", found["auto"]),
        Timing(f"type curve over a field of {type_wells:,} wells, uncached", "ms", found["type"],
               limit_ms=500.0),
    ]  # fmt: skip
