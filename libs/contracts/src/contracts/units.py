"""Units of measure and their conversion factors to canonical units.

Canonical units: oil, water and liquids in barrels (bbl), gas in thousand standard
cubic feet (Mcf). Rates are calendar-day averages: rate x calendar days = total.
"""

from enum import StrEnum
from typing import Final

BBL_PER_M3: Final = 6.289811
"""1 m3 = 1 Sm3 = 6.289811 bbl."""
SCF_PER_SM3: Final = 35.3147
"""1 Sm3 of gas = 35.3147 scf."""
SCF_PER_MCF: Final = 1_000.0
MCF_PER_BOE: Final = 6.0
"""Six Mcf of gas count as one barrel of oil equivalent."""


class Unit(StrEnum):
    BBL = "bbl"
    SM3 = "Sm3"
    M3 = "m3"
    SCF = "scf"
    MCF = "Mcf"
    MMCF = "MMcf"


class Quantity(StrEnum):
    """The measured streams; liquids are condensate and NGL, never oil or water."""

    OIL = "oil"
    GAS = "gas"
    WATER = "water"
    LIQUIDS = "liquids"


LIQUID_UNITS: Final[dict[Unit, float]] = {Unit.BBL: 1.0, Unit.SM3: BBL_PER_M3, Unit.M3: BBL_PER_M3}
"""Factor to barrels for each unit a liquid stream may be reported in."""

GAS_UNITS: Final[dict[Unit, float]] = {
    Unit.MCF: 1.0,
    Unit.MMCF: 1_000.0,
    Unit.SCF: 1.0 / SCF_PER_MCF,
    Unit.SM3: SCF_PER_SM3 / SCF_PER_MCF,
    Unit.M3: SCF_PER_SM3 / SCF_PER_MCF,
}
"""Factor to Mcf for each unit gas may be reported in."""

CANONICAL_UNIT: Final[dict[Quantity, Unit]] = {
    Quantity.OIL: Unit.BBL,
    Quantity.WATER: Unit.BBL,
    Quantity.LIQUIDS: Unit.BBL,
    Quantity.GAS: Unit.MCF,
}


def factor_to_canonical(quantity: Quantity, unit: Unit) -> float | None:
    """The multiplier from ``unit`` to the canonical unit of ``quantity``, or None when
    that unit makes no sense for that stream (e.g. gas in bbl)."""
    table = GAS_UNITS if quantity is Quantity.GAS else LIQUID_UNITS
    return table.get(unit)
