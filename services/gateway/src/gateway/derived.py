"""Ratios and equivalents computed from summed volumes, never averaged per record.

A stream that was not measured is null, and nulls stay null: a sum of nothing but
nulls is null, and a ratio needs the streams it is made of.
"""

from contracts.units import MCF_PER_BOE, SCF_PER_MCF


def boe(oil_bbl: float | None, gas_mcf: float | None, liquids_bbl: float | None) -> float | None:
    """Barrels of oil equivalent over the measured streams; null when none was measured."""
    parts = [oil_bbl, liquids_bbl, None if gas_mcf is None else gas_mcf / MCF_PER_BOE]
    known = [p for p in parts if p is not None]
    return sum(known) if known else None


def water_cut(
    oil_bbl: float | None, water_bbl: float | None, liquids_bbl: float | None
) -> float | None:
    """Water over all liquid produced; null without water or without any liquid."""
    if water_bbl is None:
        return None
    total = water_bbl + (oil_bbl or 0.0) + (liquids_bbl or 0.0)
    return water_bbl / total if total > 0 else None


def gor(oil_bbl: float | None, gas_mcf: float | None) -> float | None:
    """Gas-oil ratio in scf/bbl; null when oil is not positive (no meaningful ratio)."""
    if gas_mcf is None or oil_bbl is None or oil_bbl <= 0:
        return None
    return gas_mcf * SCF_PER_MCF / oil_bbl
