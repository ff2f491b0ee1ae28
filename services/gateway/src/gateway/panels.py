"""Response models of the reads behind the dashboard's pages (``gateway.dashboard``,
``gateway.pipeline``)."""

from datetime import date

from pydantic import BaseModel, Field

from gateway.models import UtcDatetime
from gateway.periods import Granularity


class RecordVersion(BaseModel):
    """One stored version of a record, as the audit history keeps it."""

    version: int
    revision: int
    ingested_at: UtcDatetime
    flags: list[str]
    days_on_production: float | None
    oil_bbl: float | None
    gas_mcf: float | None
    water_bbl: float | None
    liquids_bbl: float | None


class RecordHistory(BaseModel):
    """A record (one natural key) of a well: its current flags and every version."""

    record_id: str
    period: str
    field_code: str
    data_source: str
    flags: list[str] = Field(description="The current version's quality flags")
    versions: list[RecordVersion] = Field(description="Newest first; the first is current")


class RecordHistoryPage(BaseModel):
    items: list[RecordHistory]
    next_cursor: str | None


class Contribution(BaseModel):
    well_code: str | None = Field(description="Null for the other wells, summed")
    wells: int = Field(description="Wells summed in this series")
    total: float
    values: list[float | None] = Field(description="One per period of `periods`")


class Contributions(BaseModel):
    """A field's stream split by well: its largest wells one by one, the rest summed."""

    field_code: str
    stream: str
    volume_unit: str
    granularity: Granularity
    periods: list[str]
    series: list[Contribution]


class ReasonCount(BaseModel):
    day: date
    error_code: str
    count: int


class DeadLetterReasons(BaseModel):
    """Dead letters per day and rejection code (a letter counts under each of its codes)."""

    since: UtcDatetime
    items: list[ReasonCount]


class ServiceHealth(BaseModel):
    """One service as its own health and metrics endpoints tell it."""

    name: str
    url: str
    ready: bool
    status: int | None = Field(description="HTTP status of `/health/ready`; null: no answer")
    error: str | None
    consumer_lag: float | None = Field(description="Messages behind, summed over partitions")
    records_total: float | None = Field(description="Records the service has handled")
    throughput_per_s: float | None = Field(
        description="Records per second since the previous check (null on the first)"
    )


class Pipeline(BaseModel):
    checked_at: UtcDatetime
    services: list[ServiceHealth]
