"""Ingestor settings: the shared ones plus intake limits, publishing and the external API."""

from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator

from ingestor.limits import Limits
from runtime.ratelimit import RateLimitedSettings, RateLimitRequests
from runtime.settings import Port, renamed

KIB, MIB, GIB = 1024, 1024**2, 1024**3
#: aiokafka's default ``max_request_size``: the producers' unless configured otherwise.
PRODUCER_MAX_REQUEST_BYTES = MIB
#: What a raw message carries besides its record: key, headers, batch framing.
MESSAGE_OVERHEAD_BYTES = 16 * KIB


class IngestorSettings(RateLimitedSettings):
    port: Port = 8001
    max_body_bytes: int = Field(
        default=64 * MIB,
        ge=1,
        description="Largest request body accepted by /api/v1/records, inflated (413 beyond it).",
    )
    max_upload_bytes: int = Field(
        default=GIB,
        ge=1,
        description="Largest file accepted by /api/v1/uploads (413 beyond it).",
    )
    max_record_bytes: int = Field(
        default=256 * KIB,
        ge=64,
        description="Largest single record (NDJSON line, array element, CSV row); a larger "
        "one is a rejected line, or 413 when it is the whole body. Well below the "
        "producers' max request size.",
    )
    max_field_bytes: int = Field(
        default=64 * KIB,
        ge=16,
        description="Longest string in a record (a key or a value, a CSV cell).",
    )
    max_fields: int = Field(
        default=1000, ge=1, description="Most keys in a record, counted at every level."
    )
    max_depth: int = Field(
        default=32, ge=1, le=128, description="Deepest nesting of objects and arrays in a record."
    )
    max_form_fields: int = Field(
        default=8, ge=1, description="Most parts of a multipart upload, the file included."
    )
    max_form_field_bytes: int = Field(
        default=4 * KIB,
        ge=64,
        description="Largest multipart part other than the file, headers included (413 beyond).",
    )
    max_concurrent_uploads: int = Field(
        default=2, ge=1, description="Uploads one key may have in progress per replica (429)."
    )
    max_concurrent_imports: int = Field(
        default=2, ge=1, description="Imports one key may have running per replica (429)."
    )
    upload_quota_bytes: int = Field(
        default=2 * GIB,
        ge=1,
        description="Disk one key's uploads in progress may take per replica (413 beyond).",
    )
    import_max_page_bytes: int = Field(
        default=64 * MIB, ge=1024, description="Largest page the external API may answer."
    )
    publish_window: int = Field(
        default=10_000,
        ge=1,
        description="Records sent to Kafka before their acknowledgements are awaited.",
    )
    publish_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        validation_alias=renamed("publish_timeout_seconds", "publish_timeout_s"),
        description="How long one window may wait for Kafka before the request fails with 503.",
    )
    retry_after_seconds: int = Field(
        default=5,
        ge=1,
        validation_alias=renamed("retry_after_seconds", "retry_after_s"),
        description="Retry-After sent with a 503 while Kafka is unavailable.",
    )
    api_base_url: str | None = Field(
        default=None, description="Base URL of the external well-production API (imports)."
    )
    api_key: SecretStr | None = Field(
        default=None, description="API key sent to the external well-production API."
    )
    upload_dir: str | None = Field(
        default=None, description="Where uploads are spooled while processed (default: temp dir)."
    )
    api_production_path: str = Field(
        default="/production", description="Path of the external API's paginated records."
    )
    import_page_size: int = Field(default=500, ge=1, le=10_000, description="Records per page.")
    import_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        validation_alias=renamed("import_timeout_seconds", "import_timeout_s"),
        description="Timeout of one API call.",
    )
    import_max_attempts: int = Field(
        default=6, ge=1, description="Attempts per page before an import stops (resumable)."
    )
    import_backoff_initial_seconds: float = Field(
        default=1.0,
        ge=0,
        validation_alias=renamed("import_backoff_initial_seconds", "import_backoff_initial_s"),
        description="First retry delay; doubles, with jitter, per attempt.",
    )
    import_backoff_max_seconds: float = Field(
        default=60.0,
        ge=0,
        validation_alias=renamed("import_backoff_max_seconds", "import_backoff_max_s"),
        description="Longest retry delay, also the cap on Retry-After.",
    )
    import_stale_seconds: float = Field(
        default=600.0,
        gt=0,
        validation_alias=renamed("import_stale_seconds", "import_stale_s"),
        description="A running import silent this long (its replica died) may be resumed.",
    )
    # The limit of the intake routes. The deprecated per-minute variable is read as the
    # requests of the default 60 s window.
    rate_limit_requests: RateLimitRequests = Field(
        default=600,
        validation_alias=renamed("rate_limit_requests", "rate_limit_per_minute"),
    )

    @property
    def limits(self) -> Limits:
        return Limits(
            record_bytes=self.max_record_bytes,
            field_bytes=self.max_field_bytes,
            fields=self.max_fields,
            depth=self.max_depth,
        )

    @model_validator(mode="after")
    def _record_fits_a_request(self) -> Self:
        # The base settings may name the producers' request size; aiokafka's default
        # otherwise. A record that fits the intake must fit a request, or Kafka refuses it.
        request = getattr(self, "producer_max_request_bytes", PRODUCER_MAX_REQUEST_BYTES)
        if self.max_record_bytes + MESSAGE_OVERHEAD_BYTES > request:
            raise ValueError(
                f"WELLSTREAM_MAX_RECORD_BYTES must stay {MESSAGE_OVERHEAD_BYTES} bytes below "
                f"the producers' max request size ({request})"
            )
        return self

    @field_validator("api_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value or None
