"""Enrichment from well reference data (names, field, operator, basin, country, status).

The pure part lives here; ``reference.py`` keeps the data in Redis behind a cache.
"""

from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from validator.normalize import canonical_code
from validator.rules import Findings, Flag
from validator.structs import Canonical


class WellRef(BaseModel):
    """Master data of one well, as loaded by ``wellstream-validator load-reference``."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, frozen=True)

    well_code: str = Field(min_length=1)
    well_name: str | None = None
    well_reference: str | None = None
    field_code: str | None = None
    field_name: str | None = None
    operator: str | None = None
    basin: str | None = None
    country: str | None = None
    status: str | None = None

    @property
    def key(self) -> str:
        return canonical_code(self.well_code)

    @property
    def enrichment(self) -> "Enrichment":
        """What ``apply`` reads. Not cached on the instance: ``model_copy`` would carry a
        cached value over to a copy with other data (the fast path keeps its own, per
        reference object)."""
        field = canonical_code(self.field_code) if self.field_code else ""
        return Enrichment(
            field,
            self.field_name,
            self.well_name,
            self.well_reference,
            self.operator,
            self.basin,
            self.country,
            self.status,
        )


class Enrichment(NamedTuple):
    field_code: str
    """Canonical; empty when the reference names no field."""
    field_name: str | None
    well_name: str | None
    well_reference: str | None
    operator: str | None
    basin: str | None
    country: str | None
    status: str | None


def enrich(record: Canonical | None, code: str, well: WellRef | None, out: Findings) -> None:
    """Enrich ``record`` (None when already rejected) from ``well``, the reference data of
    well ``code``; an unknown well is a finding (a flag by default, a rejection when
    configured strict)."""
    if well is None:
        out.add(Flag.UNKNOWN_WELL, "well_code", value=code)
    elif record is not None:
        apply(record, well)


def apply(record: Canonical, well: WellRef) -> None:
    """Fill what the record lacks from the well's reference data (``filled``)."""
    ref = well.enrichment
    (
        record.field_code,
        record.field_name,
        record.well_name,
        record.well_reference,
    ) = filled(record.field_code, record.field_name, record.well_name, record.well_reference, ref)
    record.operator = ref.operator
    record.basin = ref.basin
    record.country = ref.country
    record.well_status = ref.status


def filled(
    field_code: str,
    field_name: str | None,
    well_name: str | None,
    well_reference: str | None,
    ref: Enrichment,
) -> tuple[str, str | None, str | None, str | None]:
    """(field code, field name, well name, well reference) as sent, completed from the
    reference: what upstream sent wins, and a field's name only fits its own field (a well
    may report to several)."""
    if not field_code:
        field_code = ref.field_code
    if field_name is None and field_code == ref.field_code:
        field_name = ref.field_name
    if well_name is None:
        well_name = ref.well_name
    if well_reference is None:
        well_reference = ref.well_reference
    return field_code, field_name, well_name, well_reference
