"""Figures and their floors, as medians over runs."""

import statistics
from dataclasses import dataclass


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
