"""Values derived from a record's volumes: boe, water cut and GOR. The validator computes
them per record, the gateway over summed volumes, with these functions alone.

The policy, one for both (``docs/records.md``):
- a stream that was not measured is null, and stays null: it is never read as 0;
- ``boe`` = oil + liquids + gas / 6, over the streams measured; null when none of oil,
  gas and liquids is;
- ``water_cut`` = water / (oil + liquids + water); null without water, without any of oil
  and liquids, when a term is negative (an allocation correction makes the ratio
  meaningless) or when the denominator is 0;
- ``gor`` = gas (scf) / oil (bbl); null unless oil is positive and gas measured and not
  negative.
"""

from contracts.units import MCF_PER_BOE, SCF_PER_MCF

Derived = tuple[float | None, float | None, float | None]
"""(boe, water_cut, gor); a plain tuple, as the validator computes it once per record."""


def boe(oil_bbl: float | None, gas_mcf: float | None, liquids_bbl: float | None) -> float | None:
    """Barrels of oil equivalent over the measured streams; null when none was measured."""
    if oil_bbl is None and gas_mcf is None and liquids_bbl is None:
        return None
    return (oil_bbl or 0.0) + (liquids_bbl or 0.0) + (gas_mcf or 0.0) / MCF_PER_BOE


def water_cut(
    oil_bbl: float | None, water_bbl: float | None, liquids_bbl: float | None
) -> float | None:
    """Water over all liquid produced (see the module's policy)."""
    if water_bbl is None or (oil_bbl is None and liquids_bbl is None):
        return None
    hydrocarbon = (oil_bbl or 0.0) + (liquids_bbl or 0.0)
    if water_bbl < 0 or hydrocarbon < 0 or hydrocarbon + water_bbl <= 0:
        return None
    return water_bbl / (hydrocarbon + water_bbl)


def gor(oil_bbl: float | None, gas_mcf: float | None) -> float | None:
    """Gas-oil ratio in scf/bbl; null unless oil is positive and gas is not negative."""
    if oil_bbl is None or gas_mcf is None or oil_bbl <= 0 or gas_mcf < 0:
        return None
    return gas_mcf * SCF_PER_MCF / oil_bbl


def derived(
    oil_bbl: float | None,
    gas_mcf: float | None,
    water_bbl: float | None,
    liquids_bbl: float | None,
) -> Derived:
    """(boe, water_cut, gor) of one set of volumes."""
    return (
        boe(oil_bbl, gas_mcf, liquids_bbl),
        water_cut(oil_bbl, water_bbl, liquids_bbl),
        gor(oil_bbl, gas_mcf),
    )
