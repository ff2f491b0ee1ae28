"""The decline fitter on synthetic wells: monthly volumes integrated exactly from a known
q(t) (the model's cumulative differenced over each calendar month), fitted back."""

from datetime import date

import numpy as np
import pytest

from gateway import decline, forecast, periods
from gateway.decline import Curve, FitError, Model
from gateway.forecast import Month, Options

TRUTH: dict[Model, Curve] = {
    "exponential": Curve("exponential", 1000.0, 0.35, 0.0, None),
    "harmonic": Curve("harmonic", 1000.0, 1.2, 1.0, None),
    "hyperbolic": Curve("hyperbolic", 1000.0, 1.5, 0.8, None),
    "modified_hyperbolic": Curve("modified_hyperbolic", 1000.0, 1.5, 1.3, 0.06),
}
START = date(2005, 1, 1)


def calendar_months(count: int, start: date = START) -> list[date]:
    days = [start]
    for _ in range(count):
        days.append(forecast.next_month(days[-1]))
    return days


def synthetic(
    curve: Curve, count: int, noise: float = 0.0, seed: int = 7, start: date = START
) -> list[Month]:
    """``count`` months of ``curve`` from ``start``, each volume times (1 + noise·N(0, 1))."""
    days = calendar_months(count, start)
    edges = np.asarray([(d - start).days for d in days], float)
    volumes = np.diff(curve.cum(edges))
    volumes *= 1 + noise * np.random.default_rng(seed).standard_normal(count)
    return [Month(d, float(v), 30.0) for d, v in zip(days, volumes, strict=False)]


def true_eur(curve: Curve, months: list[Month], options: Options) -> float:
    """The truth's volume to the end of the last month plus the horizon."""
    end = (forecast.next_month(months[-1].start) - START).days
    return float(curve.cum(np.asarray([end + options.horizon_years * 365.25]))[0])


@pytest.mark.parametrize("model", decline.MODELS)
@pytest.mark.parametrize(("noise", "tolerance"), [(0.0, 0.02), (0.05, 0.06)])
def test_eur_recovered_from_a_synthetic_well(model: Model, noise: float, tolerance: float) -> None:
    months = synthetic(TRUTH[model], 60, noise)
    options = Options(model=model)
    found = forecast.decline_curve(months, options)
    truth = true_eur(TRUTH[model], months, options)
    assert found["eur"] == pytest.approx(truth, rel=tolerance)
    assert found["model"] == model
    assert found["eur"] == pytest.approx(found["cumulative_to_date"] + found["remaining"])


@pytest.mark.parametrize("model", decline.MODELS)
def test_parameters_recovered_without_noise(model: Model) -> None:
    truth = TRUTH[model]
    found = forecast.decline_curve(synthetic(truth, 120), Options(model=model))
    params = found["parameters"]
    assert params["qi"] == pytest.approx(truth.qi, rel=1e-3)
    assert params["di_nominal"] == pytest.approx(truth.di_nominal, rel=1e-3)
    assert params["b"] == pytest.approx(truth.b, abs=1e-3)
    assert params["di_effective"] == pytest.approx(truth.di_effective, rel=1e-3)
    assert params["d_terminal_effective"] == truth.terminal
    assert found["fit"]["r2"] > 0.9999


def test_auto_picks_the_lowest_error_and_names_it() -> None:
    months = synthetic(TRUTH["hyperbolic"], 120)
    found = forecast.decline_curve(months, Options(model="auto"))
    fits = {
        m: forecast.decline_curve(months, Options(model=m))["fit"]["rmse"] for m in decline.MODELS
    }
    assert found["model"] == min(fits, key=lambda m: fits[m])
    assert found["fit"]["rmse"] == min(fits.values())


def test_the_fit_starts_at_the_peak_after_the_last_shut_in() -> None:
    before = synthetic(TRUTH["exponential"], 24)
    shut = [Month(forecast.next_month(before[-1].start), 0.0, 0.0)]
    restart_start = forecast.next_month(shut[0].start)
    ramp = [Month(restart_start, 10.0, 30.0)]  # one month ramping up, then the peak
    after = synthetic(TRUTH["hyperbolic"], 36, start=forecast.next_month(restart_start))
    months = before + shut + ramp + after
    found = forecast.decline_curve(months, Options(model="hyperbolic"))
    assert found["fit"]["from"] == f"{after[0].start:%Y-%m}"
    assert found["fit"]["months"] == 36
    assert found["cumulative_to_date"] == pytest.approx(sum(m.volume or 0 for m in months))
    explicit = forecast.decline_curve(months, Options(model="hyperbolic", start=date(2006, 1, 1)))
    assert explicit["fit"]["from"] == "2006-01"


def test_negative_zero_and_missing_months_are_not_fitted() -> None:
    months = synthetic(TRUTH["exponential"], 36)
    months[10] = Month(months[10].start, -50.0, 0.0)  # an allocation correction
    del months[20]  # a month not reported
    found = forecast.decline_curve(months, Options(model="exponential", start=START))
    assert found["fit"]["months"] == 34
    assert found["parameters"]["di_nominal"] == pytest.approx(0.35, rel=1e-3)


def test_an_outlier_month_barely_moves_the_fit() -> None:
    months = synthetic(TRUTH["hyperbolic"], 60)
    months[30] = Month(months[30].start, (months[30].volume or 0) * 5, 30.0)
    options = Options(model="hyperbolic")
    found = forecast.decline_curve(months, options)
    clean = true_eur(TRUTH["hyperbolic"], months, options) + 4 * (months[30].volume or 0) / 5
    assert found["eur"] == pytest.approx(clean, rel=0.02)


def test_too_few_months_is_an_error_with_the_reason() -> None:
    months = synthetic(TRUTH["exponential"], 5)
    with pytest.raises(FitError, match="fewer than 6 months"):
        forecast.decline_curve(months, Options())
    with pytest.raises(FitError):
        forecast.decline_curve([], Options())


def test_the_forecast_stops_at_the_economic_limit_and_adds_up() -> None:
    months = synthetic(TRUTH["exponential"], 24)
    options = Options(model="exponential", economic_limit=100.0)
    found = forecast.decline_curve(months, options)
    rates = [f["rate"] for f in found["forecast"]]
    assert rates == sorted(rates, reverse=True)
    assert rates[-1] >= 100.0 * 0.9  # the last month is cut where the rate reaches 100
    assert sum(f["volume"] for f in found["forecast"]) == pytest.approx(found["remaining"])
    assert found["forecast"][-1]["cumulative"] == pytest.approx(found["eur"])
    horizon = forecast.decline_curve(months, Options(model="exponential", horizon_years=1))
    # a year of 365.25 days: twelve months and a quarter of a day
    assert len(horizon["forecast"]) == 13
    assert horizon["forecast"][-1]["volume"] < horizon["forecast"][-2]["volume"] / 100


def test_producing_day_rates_fit_the_days_on() -> None:
    truth = TRUTH["harmonic"]
    halves = [
        Month(m.start, m.volume, periods.days(m.start, "month") / 2) for m in synthetic(truth, 48)
    ]
    found = forecast.decline_curve(halves, Options(model="harmonic", basis="producing"))
    assert found["parameters"]["qi"] == pytest.approx(2 * truth.qi, rel=1e-3)
