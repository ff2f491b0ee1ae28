"""Response models of the read API (the public shapes of PRODUCT.md)."""

from datetime import UTC, date, datetime
from typing import Annotated, Any, Final

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from gateway.periods import Granularity

UNITS: Final = {
    "days_on_production": "days",
    "oil_bbl": "bbl",
    "gas_mcf": "Mcf",
    "water_bbl": "bbl",
    "liquids_bbl": "bbl",
    "boe": "bbl oil equivalent (6 Mcf = 1 boe)",
    "water_cut": "fraction of liquid produced",
    "gor": "scf/bbl",
}


def _utc(value: datetime) -> datetime:
    # The embedded engine returns DateTime64('UTC') values without their zone; a server
    # returns them with it. Either way the API answers in UTC, with the offset.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


class Totals(BaseModel):
    """Cumulative sums over every current record; ratios from those sums."""

    days_on_production: float | None
    oil_bbl: float | None
    gas_mcf: float | None
    water_bbl: float | None
    liquids_bbl: float | None
    boe: float | None
    water_cut: float | None
    gor: float | None


class _Period(BaseModel):
    period: str = Field(description="YYYY-MM-DD, YYYY-MM or YYYY")


# pydantic collects fields from the last base up: the period comes first, then the sums
class Rates(BaseModel):
    """Calendar-day rates (volume over the period's days) and producing-day rates (over
    its days on production; null when 0 or unknown): bbl/d, gas Mcf/d."""

    oil_rate_cd: float | None
    oil_rate_pd: float | None
    gas_rate_cd: float | None
    gas_rate_pd: float | None
    water_rate_cd: float | None
    water_rate_pd: float | None
    cum_oil_bbl: float | None = Field(None, description="With `cumulative=true`: running total")
    cum_gas_mcf: float | None = Field(None, description="With `cumulative=true`: running total")
    cum_water_bbl: float | None = Field(None, description="With `cumulative=true`: running total")


class ProductionPoint(Rates, Totals, _Period):
    """Sums over one period; ratios computed from those sums. Null means not measured."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "period": "2024-03",
                "days_on_production": 29.5,
                "oil_bbl": 24180.0,
                "gas_mcf": 30512.4,
                "water_bbl": 3120.0,
                "liquids_bbl": None,
                "boe": 29265.4,
                "water_cut": 0.1143,
                "gor": 1261.9,
                "oil_rate_cd": 780.0,
                "oil_rate_pd": 819.7,
                "gas_rate_cd": 984.3,
                "gas_rate_pd": 1034.3,
                "water_rate_cd": 100.6,
                "water_rate_pd": 105.8,
                "cum_oil_bbl": 1250400.0,
                "cum_gas_mcf": 1580220.5,
                "cum_water_bbl": 98410.0,
            }
        }
    )


class ProductionSeries(BaseModel):
    granularity: Granularity
    units: dict[str, str] = Field(default_factory=lambda: dict(UNITS))
    items: list[ProductionPoint]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class PeriodRange(BaseModel):
    first: date | None = Field(description="Start of the earliest period held")
    last: date | None = Field(description="Start of the latest period held")


class Stats(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "records": 1204332,
                "wells": 5120,
                "fields": 87,
                "period_range": {"first": "1996-01-01", "last": "2025-06-01"},
                "last_ingest_at": "2025-07-02T08:15:03.120000Z",
                "dead_letters": 42,
            }
        }
    )

    records: int = Field(description="Current records, one per natural key")
    wells: int
    fields: int
    period_range: PeriodRange
    last_ingest_at: UtcDatetime | None
    dead_letters: int


class WellSummary(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "well_code": "7-MRL-123D-RJS",
                "well_name": "MRL-123D",
                "well_reference": "15/9-F-12",
                "field_codes": ["MRL"],
                "operator": "Petrobras",
                "well_status": "producing",
                "first_period": "2019-01-01",
                "last_period": "2025-05-01",
            }
        }
    )

    well_code: str
    well_name: str | None
    well_reference: str | None
    field_codes: list[str]
    operator: str | None
    well_status: str | None
    first_period: date | None
    last_period: date | None


class WellPage(BaseModel):
    items: list[WellSummary]
    next_cursor: str | None


class WellDetail(WellSummary):
    """The well, its latest reported period and its cumulative totals."""

    latest: ProductionPoint | None
    cumulative: Totals
    units: dict[str, str] = Field(default_factory=lambda: dict(UNITS))


class FieldDetail(BaseModel):
    """The field, summed over its wells' shares."""

    field_code: str
    field_name: str | None
    wells: int
    first_period: date | None
    last_period: date | None
    latest: ProductionPoint | None
    cumulative: Totals
    units: dict[str, str] = Field(default_factory=lambda: dict(UNITS))


class DeadLetterSource(BaseModel):
    topic: str
    partition: int
    offset: int


class DeadLetterItem(BaseModel):
    id: str
    stage: str
    errors: list[dict[str, Any]]
    source: DeadLetterSource | None
    line: int | None
    failed_at: UtcDatetime
    payload: str | None
    payload_base64: str | None
    accepted_at_ms: int | None = None
    """When the record was first accepted (epoch ms); a replay sends it on."""
    payload_truncated: bool = False
    """The payload was cut: the original cannot be replayed."""


class DeadLetterPage(BaseModel):
    items: list[DeadLetterItem]
    next_cursor: str | None


class ReplayRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"ids": ["3f1c9a0e2b7d4c51"]}})

    ids: list[str] = Field(min_length=1)


class ReplayResult(BaseModel):
    replayed: list[str]
    missing: list[str]
