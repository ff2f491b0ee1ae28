"""Pure normalization that is the validator's own: periods, units, rates and totals.

Identifiers, ``record_id``, ``version`` and the derived values are the contract's
(``contracts.identifiers``, ``contracts.derived``): the gateway applies them too.
"""

import calendar
from datetime import date, datetime
from functools import lru_cache
from typing import Final, Literal, NamedTuple

from contracts.units import Quantity, Unit, factor_to_canonical

_UNITS: Final = {unit.value.lower(): unit for unit in Unit}
#: A kbd rate or MMcf/d rate times days gives thousands of bbl or Mcf.
RATE_TO_TOTAL: Final = 1_000.0


class Period(NamedTuple):
    period: str
    start: date
    kind: Literal["day", "month"]
    days: int


@lru_cache(maxsize=8_192)
def parse_period(text: str) -> Period | None:
    """``YYYY-MM`` (a month), ``YYYY-MM-DD`` or an ISO timestamp at midnight (a day);
    None when the text is none of these."""
    text = text.strip()
    try:
        if len(text) == 7 and text[4] == "-":
            start = date(int(text[:4]), int(text[5:7]), 1)
            days = calendar.monthrange(start.year, start.month)[1]
            return Period(start.strftime("%Y-%m"), start, "month", days)
        if len(text) == 10:
            start = date.fromisoformat(text)
        else:
            moment = datetime.fromisoformat(text)
            if (moment.hour, moment.minute, moment.second, moment.microsecond) != (0, 0, 0, 0):
                return None
            start = moment.date()
    except ValueError:
        return None
    return Period(start.isoformat(), start, "day", 1)


def unit_of(text: str) -> Unit | None:
    """The unit named by ``text`` (case-insensitive), or None when unknown."""
    return _UNITS.get(text.strip().lower())


@lru_cache(maxsize=1_024)
def factor_of(quantity: Quantity, text: str) -> float | None:
    """The factor from the unit named by ``text`` to the canonical unit of ``quantity``;
    None when the unit is unknown or does not fit the stream (gas in bbl)."""
    unit = unit_of(text)
    return None if unit is None else factor_to_canonical(quantity, unit)


def total_from_rate(rate: float | None, days: int) -> float | None:
    """A calendar-day average rate (kbd or MMcf/d) over ``days`` as a total (bbl or Mcf)."""
    return None if rate is None else rate * days * RATE_TO_TOTAL


def rate_from_total(total: float | None, days: int) -> float | None:
    """The calendar-day average rate (kbd or MMcf/d) of a total (bbl or Mcf)."""
    return None if total is None else total / days / RATE_TO_TOTAL


def to_canonical(value: float | None, unit: Unit, quantity: Quantity) -> float | None:
    """``value`` in ``unit`` as bbl (liquids) or Mcf (gas); None stays None.
    Raises ValueError when the unit does not fit the stream (gas in bbl)."""
    factor = factor_to_canonical(quantity, unit)
    if factor is None:
        raise ValueError(f"unit {unit.value} does not fit {quantity.value}")
    return None if value is None else value * factor


def from_canonical(value: float | None, unit: Unit, quantity: Quantity) -> float | None:
    """The inverse of ``to_canonical``."""
    factor = factor_to_canonical(quantity, unit)
    if factor is None:
        raise ValueError(f"unit {unit.value} does not fit {quantity.value}")
    return None if value is None else value / factor
