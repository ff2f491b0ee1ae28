"""Pure normalization: identifiers, periods, units, derived metrics, identity and version.

Identifiers follow ``contracts.identifiers.canonical_code`` (the rule is documented
there, since the gateway applies it too); the original is kept as ``well_code_raw``.
"""

import calendar
import hashlib
from datetime import date, datetime
from functools import lru_cache
from typing import Final, NamedTuple

from contracts.identifiers import canonical_code as canonical_code  # re-exported
from contracts.units import MCF_PER_BOE, SCF_PER_MCF, Quantity, Unit, factor_to_canonical

VERSION_SHIFT: Final = 42
"""``version = revision << 42 | accepted_ms``: 42 bits of epoch milliseconds last until
2109, leaving 22 bits (up to 4,194,303) for the upstream revision in a UInt64."""
MAX_REVISION: Final = (1 << (64 - VERSION_SHIFT)) - 1

_UNITS: Final = {unit.value.lower(): unit for unit in Unit}
#: A kbd rate or MMcf/d rate times days gives thousands of bbl or Mcf.
RATE_TO_TOTAL: Final = 1_000.0
new_id_hash: Final = hashlib.blake2b(digest_size=16).copy
"""A fresh 128-bit BLAKE2b, the hash of ``record_id`` (the fast path inlines it). Copied
from one made once: building one parses a dozen keyword arguments and costs more than
the hashing."""


class Period(NamedTuple):
    period: str
    start: date
    kind: str  # "day" or "month"
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


Derived = tuple[float | None, float | None, float | None]
"""(boe, water_cut, gor); a plain tuple, as this runs once per record."""


def derived(
    oil: float | None, gas_mcf: float | None, water: float | None, liquids: float | None
) -> Derived:
    """boe over the streams measured (null when none is); ratios only over non-negative
    volumes with a positive denominator, since allocation corrections make them meaningless."""
    if oil is None and gas_mcf is None and liquids is None:
        boe = None
    else:
        boe = (oil or 0.0) + (liquids or 0.0) + (gas_mcf or 0.0) / MCF_PER_BOE
    water_cut = None
    if water is not None and (oil is not None or liquids is not None):
        hydrocarbon = (oil or 0.0) + (liquids or 0.0)
        if water >= 0 and hydrocarbon >= 0 and hydrocarbon + water > 0:
            water_cut = water / (hydrocarbon + water)
    gor = None
    if oil is not None and gas_mcf is not None and oil > 0 and gas_mcf >= 0:
        gor = gas_mcf * SCF_PER_MCF / oil
    return boe, water_cut, gor


def record_id(well_code: str, field_code: str, period: str, kind: str, data_source: str) -> str:
    """Deterministic id of a natural key: the same key always yields the same id."""
    key = f"{well_code}\x1f{field_code}\x1f{period}\x1f{kind}\x1f{data_source}".encode()
    digest = new_id_hash()
    digest.update(key)
    return digest.hexdigest()


def version(revision: int, accepted_ms: int) -> int:
    """Ordered by (revision, time first accepted); a replay keeps both, so the same version."""
    return (revision << VERSION_SHIFT) | accepted_ms
