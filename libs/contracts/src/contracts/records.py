"""Record models: what upstream systems send and what the pipeline produces.

Consumers tolerate unknown fields: a raw record keeps them verbatim (``extra``), and
canonical records ignore fields added by a newer schema.
"""

from datetime import date, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION: Final = 1

Number = float | None


class VolumeIn(BaseModel):
    """A period total with an explicit unit, as sent upstream."""

    model_config = ConfigDict(extra="allow")

    value: float | None = None
    unit: str


class RawRecord(BaseModel):
    """One raw production record as upstream systems publish it on ``production.raw.v1``.

    Numbers may arrive as JSON strings; an empty string means "not measured" (null).
    Unknown fields are kept (``model_extra``) for audit and never interpreted.
    """

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    well_code: str = Field(min_length=1)
    production_period: str = Field(min_length=7)
    field_code: str | None = None
    field_name: str | None = None
    well_reference: str | None = None
    well_name: str | None = None
    days_on_production: Number = None
    oil_production_kbd: Number = None
    gas_production_mmcfd: Number = None
    water_production_kbd: Number = None
    liquids_production_kbd: Number = None
    volumes: dict[str, VolumeIn | None] | None = None
    data_source: str = "unknown"
    revision: Annotated[int, Field(ge=0)] = 0

    @field_validator(
        "days_on_production",
        "oil_production_kbd",
        "gas_production_mmcfd",
        "water_production_kbd",
        "liquids_production_kbd",
        mode="before",
    )
    @classmethod
    def _blank_is_null(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("data_source", mode="before")
    @classmethod
    def _default_source(cls, value: Any) -> Any:
        return "unknown" if value is None or value == "" else value

    @field_validator("revision", mode="before")
    @classmethod
    def _absent_revision(cls, value: Any) -> Any:
        return 0 if value is None or value == "" else value


class OriginalValue(BaseModel):
    """The value and unit a quantity arrived in, kept beside its canonical value."""

    value: float | None
    unit: str


class CanonicalRecord(BaseModel):
    """A validated, normalized record (``production.normalized.v1`` and ClickHouse).

    ``record_id`` identifies the natural key (well, field, period, period type, source);
    ``version`` orders the versions of one key: the upstream revision first, then the
    time the raw message was first accepted, so reprocessing a message yields the same
    version and a late copy of an older revision never wins.
    """

    model_config = ConfigDict(extra="ignore")

    record_id: str
    version: int
    well_code: str
    well_code_raw: str
    field_code: str = ""
    field_name: str | None = None
    well_reference: str | None = None
    well_name: str | None = None
    period: str
    period_start: date
    period_type: Literal["day", "month"]
    days_in_period: int
    days_on_production: float | None = None
    oil_bbl: float | None = None
    gas_mcf: float | None = None
    water_bbl: float | None = None
    liquids_bbl: float | None = None
    oil_production_kbd: float | None = None
    gas_production_mmcfd: float | None = None
    water_production_kbd: float | None = None
    liquids_production_kbd: float | None = None
    boe: float | None = None
    water_cut: float | None = None
    gor: float | None = None
    original_values: dict[str, OriginalValue] = Field(default_factory=dict)
    flags: list[str] = Field(default_factory=list)
    operator: str | None = None
    basin: str | None = None
    country: str | None = None
    well_status: str | None = None
    data_source: str = "unknown"
    revision: int = 0
    extra: dict[str, Any] = Field(default_factory=dict)
    source_topic: str = ""
    source_partition: int = -1
    source_offset: int = -1
    ingested_at: datetime
    normalized_at: datetime
    schema_version: int = SCHEMA_VERSION
