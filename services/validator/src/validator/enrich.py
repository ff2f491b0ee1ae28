"""Enrichment from well reference data (names, field, operator, basin, country, status).

The pure part lives here; ``reference.py`` keeps the data in Redis behind a cache.
"""

from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from contracts.identifiers import canonical_code
from contracts.records import CanonicalRecord
from validator.rules import Findings, Flag


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
        """What ``enrich`` reads. Not cached on the instance: ``model_copy`` would carry a
        cached value over to a copy with other data."""
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


def enrich(record: CanonicalRecord, well: WellRef | None, out: Findings) -> None:
    """Fill what ``record`` lacks from ``well``, the reference data of its well; an unknown
    well (None) is a finding (a flag by default, a rejection when configured strict)."""
    if well is None:
        out.add(Flag.UNKNOWN_WELL, "well_code", value=record.well_code)
        return
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
