"""A well's decline from its monthly volumes: the months fitted, the fit, the forecast.
No I/O: plain functions of the months (``gateway.decline`` fits).

Time runs in days from the first day of the fit's first month (petbox-dca's unit); the
answer states declines per year of 365.25 days.
"""

import math
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

import numpy as np

from gateway import decline, periods
from gateway.decline import Curve, Fit, FitError, Model, Points

Basis = Literal["calendar", "producing"]
MAX_FORECAST_MONTHS: Final = 1200


@dataclass(frozen=True, slots=True)
class Month:
    start: date  # its first day
    volume: float | None
    days_on: float | None = None

    def rate(self, basis: Basis) -> float | None:
        if self.volume is None:
            return None
        if basis == "calendar":
            return self.volume / periods.days(self.start, "month")
        return self.volume / self.days_on if self.days_on and self.days_on > 0 else None


@dataclass(frozen=True, slots=True)
class Options:
    model: Model | Literal["auto"] = "auto"
    start: date | None = None
    end: date | None = None
    terminal: float = 0.06
    economic_limit: float = 0.0
    horizon_years: float = 30.0
    basis: Basis = "calendar"


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def grid(months: list[Month]) -> list[Month]:
    """Every month from the first held to the last, a month not held without volume."""
    if not months:
        return []
    held = {m.start: m for m in months}
    found, day = [], months[0].start
    while day <= months[-1].start:
        found.append(held.get(day, Month(day, None)))
        day = next_month(day)
    return found


def _shut(month: Month) -> bool:
    return month.volume is None or month.volume == 0


def window(months: list[Month], options: Options) -> list[Month]:
    """The months fitted: by default from the peak rate after the last shut-in to the
    last month with a positive volume; ``start`` and ``end`` override."""
    every = grid(months)
    last = max((i for i, m in enumerate(every) if (m.volume or 0) > 0), default=-1)
    if options.end is not None:
        last = max((i for i, m in enumerate(every) if m.start <= options.end), default=-1)
    if options.start is not None:
        first = next((i for i, m in enumerate(every) if m.start >= options.start), last + 1)
        return every[first : last + 1]
    shut = max((i for i, m in enumerate(every[: last + 1]) if _shut(m)), default=-1)
    after = every[shut + 1 : last + 1]
    rates = [m.rate(options.basis) or -math.inf for m in after]
    if not rates:
        return []
    return after[int(np.argmax(rates)) :]


def points(fitted: list[Month], basis: Basis) -> Points:
    """The months of ``fitted`` with a positive rate, timed from its first month."""
    if not fitted:
        raise FitError(f"fewer than {decline.MIN_MONTHS} months with positive rates to fit")
    origin = fitted[0].start
    t0, t1, rates = [], [], []
    for month in fitted:
        rate = month.rate(basis)
        if rate is not None and rate > 0:
            t0.append(float((month.start - origin).days))
            t1.append(float((next_month(month.start) - origin).days))
            rates.append(rate)
    return Points.of(t0, t1, rates)


def run_fit(found: Points, options: Options) -> Fit:
    if options.model == "auto":
        return decline.best(found, options.terminal)
    return decline.fit(found, options.model, options.terminal)


def _stop(curve: Curve, t_end: float, options: Options) -> float:
    """When the forecast ends: the economic limit or the horizon, whichever first."""
    horizon = t_end + options.horizon_years * decline.DAYS_PER_YEAR
    return max(t_end, min(horizon, curve.time_at_rate(options.economic_limit)))


def _forecast(curve: Curve, origin: date, last: date, stop: float) -> list[tuple[date, float]]:
    """(month, volume) of each forecast month after ``last`` until ``stop`` days."""
    starts: list[date] = []
    day = next_month(last)
    while (day - origin).days < stop and len(starts) < MAX_FORECAST_MONTHS:
        starts.append(day)
        day = next_month(day)
    edges = [float((d - origin).days) for d in [*starts, day]]
    cum = curve.cum(np.minimum(np.asarray(edges), stop))
    return list(zip(starts, np.diff(cum).tolist(), strict=True))


def decline_curve(months: list[Month], options: Options) -> dict[str, Any]:
    """The decline answer of PRODUCT.md without the well's code and stream."""
    fitted = window(months, options)
    found = points(fitted, options.basis)
    result = run_fit(found, options)
    curve, origin, last = result.curve, fitted[0].start, fitted[-1].start
    t_end = float((next_month(last) - origin).days)
    to_date = sum(m.volume or 0.0 for m in months if m.start <= last)
    stop = _stop(curve, t_end, options)
    remaining = float(curve.cum(np.asarray([stop]))[0] - curve.cum(np.asarray([t_end]))[0])
    forecast, running = [], to_date
    for day, volume in _forecast(curve, origin, last, stop):
        running += volume
        rate = volume / periods.days(day, "month")
        forecast.append(
            {"period": periods.label(day, "month"), "rate": rate, "volume": volume,
             "cumulative": running}
        )  # fmt: skip
    return {
        "model": curve.model,
        "parameters": parameters(curve),
        "fit": {"from": periods.label(origin, "month"), "to": periods.label(last, "month"),
                "months": len(found.rate), "r2": result.r2, "rmse": result.rmse},
        "cumulative_to_date": to_date,
        "remaining": remaining,
        "eur": to_date + remaining,
        "forecast": forecast,
    }  # fmt: skip


def parameters(curve: Curve) -> dict[str, float | None]:
    return {
        "qi": curve.qi,
        "di_nominal": curve.di_nominal,
        "di_effective": curve.di_effective,
        "b": curve.b,
        "d_terminal_effective": curve.terminal,
    }
