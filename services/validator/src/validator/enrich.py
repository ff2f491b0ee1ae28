"""Enrichment from well reference data (names, field, operator, basin, country, status).

The pure part lives here; ``reference.py`` keeps the data in Redis behind a cache.
"""

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


def enrich(record: Canonical | None, code: str, well: WellRef | None, out: Findings) -> None:
    """Enrich ``record`` (None when already rejected) from ``well``, the reference data of
    well ``code``; an unknown well is a finding (a flag by default, a rejection when
    configured strict)."""
    if well is None:
        out.add(Flag.UNKNOWN_WELL, "well_code", value=code)
    elif record is not None:
        apply(record, well)


def apply(record: Canonical, well: WellRef) -> None:
    """Fill what the record lacks from the well's reference data; what upstream sent wins,
    and a field's name only fits its own field (a well may report to several)."""
    ref_field = canonical_code(well.field_code) if well.field_code else ""
    if not record.field_code:
        record.field_code = ref_field
    if record.field_name is None and record.field_code == ref_field:
        record.field_name = well.field_name
    if record.well_name is None:
        record.well_name = well.well_name
    if record.well_reference is None:
        record.well_reference = well.well_reference
    record.operator = well.operator
    record.basin = well.basin
    record.country = well.country
    record.well_status = well.status
