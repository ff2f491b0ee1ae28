"""Validator settings: consumer tuning, rule thresholds and severities, reference data."""

from pydantic import Field, field_validator

from runtime.settings import BatchRecords, ConsumerSettings, Port, renamed
from validator.rules import RULES, Severity


class ValidatorSettings(ConsumerSettings):
    port: Port = 8002

    batch_max_records: BatchRecords = Field(
        default=2_000, description="Most raw messages handled in one consumer batch."
    )
    batch_timeout_ms: int = Field(
        default=200, ge=1, description="How long a batch waits to fill before it is handled."
    )

    producing_time_tolerance: float = Field(
        default=0.25,
        ge=0,
        description=(
            "Producing time over the period is flagged; beyond this fraction over the period "
            "(0.25 = 25 %) it is rejected."
        ),
    )
    future_period_grace_days: int = Field(
        default=1,
        ge=0,
        description="A period may start this many days after today (time zones) before it is "
        "rejected as a period in the future.",
    )
    max_oil_kbd: float = Field(
        default=250.0, gt=0, description="Plausible ceiling of one well's oil rate, kbd."
    )
    max_liquids_kbd: float = Field(
        default=250.0, gt=0, description="Plausible ceiling of one well's liquids rate, kbd."
    )
    max_water_kbd: float = Field(
        default=500.0, gt=0, description="Plausible ceiling of one well's water rate, kbd."
    )
    max_gas_mmcfd: float = Field(
        default=1_500.0, gt=0, description="Plausible ceiling of one well's gas rate, MMcf/d."
    )
    rule_severities: dict[str, Severity] = Field(
        default_factory=dict,
        description='Override a rule\'s severity by code, e.g. {"unknown_well": "reject"}.',
    )

    reference_enabled: bool = Field(
        default=True, description="Enrich records from well reference data kept in Redis."
    )
    reference_key_prefix: str = Field(
        default="wellstream:ref:well:", min_length=1, description="Redis key prefix of wells."
    )
    reference_cache_ttl_seconds: float = Field(
        default=300.0,
        ge=0,
        validation_alias=renamed("reference_cache_ttl_seconds", "reference_cache_ttl_s"),
        description="How long a well's reference data is cached in-process.",
    )
    reference_cache_size: int = Field(
        default=100_000, ge=1, description="Most wells kept in the in-process reference cache."
    )
    reference_cache_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024 * 1024,
        description="Most bytes (about) the in-process reference cache holds; the oldest "
        "wells are dropped first.",
    )
    reference_retry_for_seconds: float = Field(
        default=30.0,
        gt=0,
        validation_alias=renamed("reference_retry_for_seconds", "reference_retry_for_s"),
        description="How long a Redis outage is retried before the batch is redelivered.",
    )

    @field_validator("rule_severities")
    @classmethod
    def _adjustable(cls, value: dict[str, Severity]) -> dict[str, Severity]:
        for code in value:
            rule = RULES.get(code)
            if rule is None or not rule.adjustable:
                known = ", ".join(sorted(c for c, r in RULES.items() if r.adjustable))
                raise ValueError(f"cannot set the severity of {code!r}; adjustable: {known}")
        return value
