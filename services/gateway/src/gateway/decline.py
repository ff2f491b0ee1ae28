"""Decline curves: Arps models fitted to monthly rates. No I/O: plain functions of a
well's months (``docs/analytics.md`` states the conventions).

The models are petbox-dca's (``MH``: Arps hyperbolic, exponential at b = 0, harmonic at
b = 1, and with a terminal exponential decline); their rates and cumulatives are its
closed forms. A month's modelled rate is its modelled volume (the cumulative's
difference over the month) over its days, the same average the data holds, so a
well whose volumes follow a model exactly is fitted exactly. The fit is
``scipy.optimize.least_squares`` on the logarithm of the rates with the ``soft_l1``
loss: residuals within ``F_SCALE`` (about 10 %) count as squares, larger ones (an
outlier month, a partial month, a choke change) grow only linearly.
"""

import math
import warnings
from dataclasses import dataclass
from typing import Final, Literal, get_args

import numpy as np
from numpy.typing import NDArray
from petbox.dca import MH
from scipy.optimize import least_squares

# A modified hyperbolic whose b the fit takes to 0 is an exponential: petbox warns that
# its terminal decline is then never reached, once a curve, hundreds of times a fit.
warnings.filterwarnings("ignore", "Dterm ignored", RuntimeWarning, "petbox")

Model = Literal["exponential", "harmonic", "hyperbolic", "modified_hyperbolic"]
MODELS: Final[tuple[Model, ...]] = get_args(Model)
DAYS_PER_YEAR: Final = 365.25
MIN_MONTHS: Final = 6
F_SCALE: Final = 0.1
#: Fixed exponents; the other models fit b in [0, 2].
FIXED_B: Final[dict[Model, float]] = {"exponential": 0.0, "harmonic": 1.0}
#: Nominal initial decline bounds, per year.
D_MIN, D_MAX = 1e-3, 20.0

Floats = NDArray[np.float64]


class FitError(ValueError):
    """The months given cannot be fitted (too few positive rates)."""


@dataclass(frozen=True, slots=True)
class Points:
    """The fitted months: their start and end in days from the fit's origin, and rates."""

    t0: Floats
    t1: Floats
    rate: Floats

    @classmethod
    def of(cls, t0: list[float], t1: list[float], rate: list[float]) -> "Points":
        return cls(np.asarray(t0, float), np.asarray(t1, float), np.asarray(rate, float))


@dataclass(frozen=True, slots=True)
class Curve:
    """A fitted model: rates per day, time in days from the fit's origin."""

    model: Model
    qi: float
    di_nominal: float  # per year
    b: float
    terminal: float | None  # secant effective, modified hyperbolic only

    @property
    def di_effective(self) -> float:
        return float(MH.secant_from_nominal(self.di_nominal, self.b))

    def petbox(self) -> MH:
        return petbox_curve(self.qi, self.di_nominal, self.b, self.terminal or 0.0)

    def cum(self, t: Floats) -> Floats:
        return np.asarray(self.petbox().cum(t), float)

    def average_rates(self, t0: Floats, t1: Floats) -> Floats:
        return average_rates(self.petbox(), t0, t1)

    def time_at_rate(self, rate: float) -> float:
        """Days from the origin until the rate falls to ``rate`` (inf if never)."""
        if rate <= 0:
            return math.inf
        found = float(np.asarray(self.petbox().time_at_rate(rate)).ravel()[0])
        return found if math.isfinite(found) else math.inf


@dataclass(frozen=True, slots=True)
class Fit:
    curve: Curve
    r2: float
    rmse: float


def petbox_curve(qi: float, di_nominal: float, b: float, terminal: float) -> MH:
    """petbox's model: it takes the initial decline as a secant effective one."""
    return MH(qi, float(MH.secant_from_nominal(di_nominal, b)), b, terminal)


def average_rates(curve: MH, t0: Floats, t1: Floats) -> Floats:
    cum = np.asarray(curve.cum(np.concatenate([t0, t1])), float)
    n = len(t0)
    found: Floats = (cum[n:] - cum[:n]) / (t1 - t0)
    return found


def terminal_nominal(terminal: float) -> float:
    """The tail's nominal decline per year: -ln(1 - terminal)."""
    return -math.log1p(-terminal)


def _initial(points: Points, b: float | None) -> list[float]:
    mid = (points.t0 + points.t1) / 2
    logs = np.log(points.rate)
    slope, intercept = np.polyfit(mid, logs, 1) if len(mid) > 1 else (0.0, logs[0])
    decline = float(np.clip(-slope * DAYS_PER_YEAR, 0.05, D_MAX / 2))
    start = [float(max(intercept, logs[0])), math.log(decline)]
    return start if b is not None else [*start, 0.5]


def _bounds(model: Model, b: float | None, terminal: float) -> tuple[list[float], list[float]]:
    low = math.log(D_MIN)
    if model == "modified_hyperbolic":
        low = max(low, math.log(terminal_nominal(terminal) * 1.001))
    lower, upper = [-50.0, low], [50.0, math.log(D_MAX)]
    if b is None:
        return [*lower, 0.0], [*upper, 2.0]
    return lower, upper


def _curve(model: Model, x: Floats, terminal: float) -> Curve:
    b = FIXED_B.get(model, float(x[2]) if len(x) > 2 else 0.0)
    end = terminal if model == "modified_hyperbolic" else None
    return Curve(model, math.exp(float(x[0])), math.exp(float(x[1])), b, end)


def fit(points: Points, model: Model, terminal: float = 0.06) -> Fit:
    """Fit ``model`` to ``points`` (positive rates only). Raises ``FitError``."""
    if len(points.rate) < MIN_MONTHS or np.any(points.rate <= 0):
        raise FitError(f"fewer than {MIN_MONTHS} months with positive rates to fit")
    b = FIXED_B.get(model)
    logs = np.log(points.rate)

    def residuals(x: Floats) -> Floats:
        modelled = _curve(model, x, terminal).average_rates(points.t0, points.t1)
        return np.log(np.maximum(modelled, 1e-300)) - logs

    lower, upper = _bounds(model, b, terminal)
    start = np.clip(_initial(points, b), np.asarray(lower) + 1e-9, np.asarray(upper) - 1e-9)
    found = least_squares(residuals, start, bounds=(lower, upper), loss="soft_l1", f_scale=F_SCALE)
    curve = _curve(model, found.x, terminal)
    return Fit(curve, *_quality(curve.average_rates(points.t0, points.t1), points.rate))


def _quality(modelled: Floats, observed: Floats) -> tuple[float, float]:
    """(r², rmse) of the rates."""
    errors = modelled - observed
    total = float(np.sum((observed - observed.mean()) ** 2))
    sse = float(np.sum(errors**2))
    r2 = 1.0 - sse / total if total > 0 else 1.0
    return r2, math.sqrt(sse / len(observed))


def best(points: Points, terminal: float = 0.06) -> Fit:
    """Every model fitted; the one with the lowest rmse of the rates."""
    return min((fit(points, m, terminal) for m in MODELS), key=lambda f: f.rmse)
