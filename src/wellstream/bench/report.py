"""Figures and their floors, as medians over runs."""

import statistics
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Result:
    name: str
    unit: str
    runs: list[float]
    floor_name: str
    floor_runs: list[float]
    target: float | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def floor(self) -> float:
        return statistics.median(self.floor_runs)

    @property
    def ratio(self) -> float:
        return self.median / self.floor if self.floor else float("nan")

    def line(self) -> str:
        target = f" (target >= {self.target:.2f})" if self.target is not None else ""
        spread = f"[{min(self.runs):,.0f}..{max(self.runs):,.0f}]"
        floor_spread = f"[{min(self.floor_runs):,.0f}..{max(self.floor_runs):,.0f}]"
        return (
            f"{self.name}: {self.median:,.0f} {self.unit} {spread} | {self.floor_name}: "
            f"{self.floor:,.0f} {self.unit} {floor_spread} | ratio {self.ratio:.2f}{target}"
        )


@dataclass(frozen=True)
class Latency(Result):
    """Throughput (``runs``) with the latency percentiles of each run; no floor, a target
    on the p99 instead."""

    floor_name: str = ""
    floor_runs: list[float] = field(default_factory=list)
    p50_ms: tuple[float, ...] = ()
    p99_ms: tuple[float, ...] = ()
    p99_target_ms: float | None = None

    def line(self) -> str:
        spread = f"[{min(self.runs):,.0f}..{max(self.runs):,.0f}]"
        p99 = statistics.median(self.p99_ms)
        target = f" (target < {self.p99_target_ms:g} ms)" if self.p99_target_ms else ""
        return (
            f"{self.name}: {self.median:,.0f} {self.unit} {spread} | p50 "
            f"{statistics.median(self.p50_ms):.1f} ms | p99 {p99:.1f} ms "
            f"[{min(self.p99_ms):.1f}..{max(self.p99_ms):.1f}]{target}"
        )


@dataclass(frozen=True)
class Timing(Result):
    """Milliseconds per call (``runs``: the median of each run), against a ceiling."""

    floor_name: str = ""
    floor_runs: list[float] = field(default_factory=list)
    limit_ms: float = 0.0

    def line(self) -> str:
        spread = f"[{min(self.runs):.1f}..{max(self.runs):.1f}]"
        target = f" (target < {self.limit_ms:g} ms)" if self.limit_ms else ""
        return f"{self.name}: {self.median:.1f} ms {spread}{target}"


@dataclass(frozen=True)
class Paired(Result):
    """A figure and its floor measured side by side in each run (``runs[i]`` with
    ``floor_runs[i]``): the ratio is the median of each run's, so the machine's load,
    which moves both of a run together, moves it less."""

    @property
    def ratio(self) -> float:
        return statistics.median(f / b for f, b in zip(self.runs, self.floor_runs, strict=True))

    def line(self) -> str:
        each = [f / b for f, b in zip(self.runs, self.floor_runs, strict=True)]
        return f"{super().line()}, each run's [{min(each):.2f}..{max(each):.2f}]"
