"""Benchmarks (``make bench``): each measures a figure and the floor its issue names,
over several runs, and prints the medians and their ratio.

Sizes come from ``WELLSTREAM_BENCH_RECORDS`` (records per run, default 200,000) and
``WELLSTREAM_BENCH_RUNS`` (runs per figure, default 3).
"""

import os
from collections.abc import Callable

from wellstream.bench.report import Result

RECORDS = int(os.environ.get("WELLSTREAM_BENCH_RECORDS", "200000"))
RUNS = int(os.environ.get("WELLSTREAM_BENCH_RUNS", "3"))


# Benchmarks sized by something else than WELLSTREAM_BENCH_RECORDS.
SIZES = {
    "gateway": "rows from WELLSTREAM_BENCH_GATEWAY_ROWS",
    "analytics": "rows from WELLSTREAM_BENCH_GATEWAY_ROWS",
    "dashboard": "30 years of one well, 500 wells of a field",
    "organisations": "rows from WELLSTREAM_BENCH_ORGANISATIONS_ROWS",
}


def _registry() -> dict[str, Callable[[int, int], list[Result]]]:
    from wellstream.bench import (
        analytics,
        dashboard,
        gateway,
        organisations,
        pipeline,
        stages,
        writer,
    )

    return {
        "pipeline": pipeline.run,
        "validator": stages.validator,
        "writer": writer.writer,
        "gateway": gateway.run,
        "analytics": analytics.run,
        "dashboard": dashboard.run,
        "organisations": organisations.run,
    }


def main(names: list[str]) -> int:
    benchmarks = _registry()
    chosen = names or list(benchmarks)
    unknown = [n for n in chosen if n not in benchmarks]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(benchmarks)}")
        return 2
    results: list[Result] = []
    for name in chosen:
        size = SIZES.get(name, "records")
        count = "" if name in SIZES else f"{RECORDS:,} "
        print(f"== {name}: {count}{size}, {RUNS} runs", flush=True)
        found = benchmarks[name](RECORDS, RUNS)
        for result in found:
            print("   " + result.line(), flush=True)
        results += found
    print("\nsummary (medians)")
    for result in results:
        print("  " + result.line())
    return 0
