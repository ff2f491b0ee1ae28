"""Gateway settings: the shared ones plus paging, caching, JWT and export knobs."""

from typing import Self

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from runtime.ratelimit import RateLimitedSettings, RateLimitRequests


class GatewaySettings(RateLimitedSettings):
    page_limit_default: int = Field(
        default=500, ge=1, description="Items per page when a request gives no `limit`."
    )
    page_limit_max: int = Field(
        default=10_000, ge=1, description="The largest `limit` a request may ask for."
    )
    clickhouse_pool_size: int = Field(
        default=4,
        ge=1,
        le=64,
        description="ClickHouse clients the reads are spread over. One client runs one "
        "query at a time (the embedded engine serializes calls per client), so concurrent "
        "reads need several.",
    )
    clickhouse_retry_seconds: float = Field(
        default=3.0,
        ge=0,
        le=60,
        description="How long a read retries ClickHouse trouble (connection lost, "
        "overload) before it answers 503 with `Retry-After`.",
    )
    kafka_retry_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Pause between attempts to reach Kafka, which only dead-letter replay "
        "needs: the gateway starts and serves reads without it, replay answers 503.",
    )
    cache_ttl_seconds: int = Field(
        default=600,
        ge=0,
        description="Lifetime of a cached read in Redis (0 disables caching). Entries are "
        "also invalidated as soon as new data for their well or field lands.",
    )
    cache_entry_max_bytes: int = Field(
        default=1_048_576,
        ge=0,
        description="Largest cached body; a larger one is served but not stored. Entries "
        "expire after `cache_ttl_seconds`: run Redis with `maxmemory` and "
        "`maxmemory-policy volatile-lru`, so only expiring keys (cache entries) are evicted.",
    )
    rate_limit_requests: RateLimitRequests = 1_200
    export_block_rows: int = Field(
        default=65_536, ge=1_000, description="Rows per streamed block of an export."
    )
    export_workers: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Exports streaming at once, on threads (and ClickHouse clients) of "
        "their own; more wait for a free one. Reads never wait behind exports.",
    )
    export_max_per_key: int = Field(
        default=2, ge=1, description="Exports one API key may run at once (429 beyond)."
    )
    export_max_execution_seconds: int = Field(
        default=3_600, ge=1, description="ClickHouse's `max_execution_time` for an export."
    )
    query_max_execution_seconds: int = Field(
        default=30, ge=1, description="ClickHouse's `max_execution_time` for every other read."
    )
    query_max_result_rows: int = Field(
        default=1_000_000,
        ge=1,
        description="ClickHouse's `max_result_rows` for every read but exports "
        "(`result_overflow_mode=throw`): a query that would return more fails.",
    )
    replay_max_ids: int = Field(
        default=1_000, ge=1, description="Dead letters one replay request may republish."
    )
    dashboard_services: dict[str, str] = Field(
        default_factory=dict,
        description="Services whose readiness, consumer lag and throughput the dashboard's "
        "overview shows, as a JSON object of name to base URL (e.g. "
        '`{"ingestor": "http://ingestor:8001"}`); the gateway reads their `/health/ready` '
        "and `/metrics`.",
    )
    ingestor_url: str | None = Field(
        default=None,
        description="Base URL of the ingestor: the gateway passes `/api/v1/uploads` through "
        "to it, streamed, so the dashboard's upload page stays same-origin (unset: 503).",
    )
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HMAC secret verifying JWT bearer tokens (HS256/384/512). Enabling JWT "
        "(this or `jwt_jwks_url`) requires `jwt_audience` and `jwt_issuer`.",
    )
    jwt_jwks_url: str | None = Field(
        default=None,
        description="JWKS URL whose keys verify JWT bearer tokens (RS/ES/PS/EdDSA); not "
        "with `jwt_secret`.",
    )
    jwt_algorithms: list[str] | None = Field(
        default=None,
        description="Accepted JWT signing algorithms; they follow the key source: HMAC "
        "ones (HS*) with `jwt_secret`, asymmetric ones with `jwt_jwks_url` (default: "
        "`HS256`, or `RS256` and `ES256`).",
    )
    jwt_audience: str | None = Field(
        default=None, description="Required `aud` claim (required when JWT is enabled)."
    )
    jwt_issuer: str | None = Field(
        default=None, description="Required `iss` claim (required when JWT is enabled)."
    )
    jwt_scope_claim: str = Field(
        default="scope",
        description="Claim holding the scopes (space-separated string or list).",
    )
    jwt_organisation_claim: str = Field(
        default="org",
        description="Claim naming the token's organisation (absent: `default_organisation`).",
    )

    @field_validator("jwt_jwks_url")
    @classmethod
    def _one_key_source(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("jwt_secret") is not None:
            raise ValueError("set jwt_secret or jwt_jwks_url, not both")
        return value

    @field_validator("jwt_algorithms")
    @classmethod
    def _algorithms_follow_the_key(
        cls, value: list[str] | None, info: ValidationInfo
    ) -> list[str] | None:
        hmac = info.data.get("jwt_secret") is not None
        if value is not None:
            wrong = [a for a in value if a.upper().startswith("HS") != hmac or a.lower() == "none"]
            if wrong or not value:
                needs = "HMAC (HS*)" if hmac else "asymmetric (RS/ES/PS/EdDSA)"
                raise ValueError(f"{needs} algorithms only with this key source, not {wrong}")
        return value

    @field_validator("jwt_audience", "jwt_issuer")
    @classmethod
    def _required_with_jwt(cls, value: str | None, info: ValidationInfo) -> str | None:
        jwt = info.data.get("jwt_secret") is not None or info.data.get("jwt_jwks_url")
        if jwt and not value:
            raise ValueError("required when JWT is enabled (jwt_secret or jwt_jwks_url)")
        return value

    def jwt_allowed(self) -> list[str]:
        """The algorithms tokens may be signed with, from the key source's family."""
        if self.jwt_algorithms is not None:
            return self.jwt_algorithms
        return ["HS256"] if self.jwt_secret is not None else ["RS256", "ES256"]

    @model_validator(mode="after")
    def _limits(self) -> Self:
        if self.page_limit_default > self.page_limit_max:
            raise ValueError("page_limit_default must not exceed page_limit_max")
        return self
