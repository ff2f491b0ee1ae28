"""Benchmarks: ``make bench``. Each prints medians over several runs and the ratio to
the floor its issue names."""

from collections.abc import Callable

BENCHMARKS: dict[str, Callable[[], None]] = {}


def main(names: list[str]) -> int:
    chosen = names or list(BENCHMARKS)
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    for name in chosen:
        BENCHMARKS[name]()
    return 0
