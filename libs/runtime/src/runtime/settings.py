"""Settings shared by every service: 12-factor, prefix ``WELLSTREAM_``, checked at start-up.

Any setting may also be read from a file named by ``WELLSTREAM_<NAME>_FILE`` (as
Kubernetes mounts secrets); the variable itself wins when both are set.

Names say their unit: durations end in ``_seconds`` (Kafka client timeouts, which mirror
Kafka's own ``*.ms`` settings, in ``_ms``), sizes in ``_bytes``. A renamed setting keeps
its old variable as a deprecated alias (``renamed``); ``load`` warns when one is set.
"""

import json
import logging
import os
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from contracts import topics

PREFIX = "WELLSTREAM_"
Scope = Literal["read", "ingest", "admin"]

log = logging.getLogger(__name__)

# Declared once, with a default per service: ``port: Port = 8001``.
Port = Annotated[int, Field(ge=1, le=65535, description="HTTP port of the service.")]
BatchRecords = Annotated[
    int, Field(ge=1, description="Most records a consumer takes from Kafka in one batch.")
]
RateLimitRequests = Annotated[
    int,
    Field(
        ge=0,
        description="Requests each API key may make per `rate_limit_period_seconds` (0: off).",
    ),
]


def renamed(name: str, *old: str) -> AliasChoices:
    """The ``validation_alias`` of a renamed setting ``name``: ``WELLSTREAM_<NAME>``, then
    its ``old`` names, still read (deprecated) so existing deployments keep working. An
    alias bypasses the prefix, hence the full variable names."""
    return AliasChoices(*(f"{PREFIX}{n.upper()}" for n in (name, *old)))


def deprecated_names(cls: type[BaseSettings]) -> dict[str, str]:
    """Each deprecated variable of ``cls`` and the variable that replaces it."""
    names: dict[str, str] = {}
    for field in cls.model_fields.values():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            new, *old = (str(choice) for choice in alias.choices)
            names |= dict.fromkeys(old, new)
    return names


class ApiKey(BaseModel):
    name: str = Field(min_length=1)
    key: SecretStr
    scopes: list[Scope] = Field(min_length=1)

    @field_validator("key")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("API keys must be at least 16 characters long")
        return value


class _FileSecretsSource(PydanticBaseSettingsSource):
    """Reads ``WELLSTREAM_<NAME>_FILE`` for every field not set directly."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        path = os.environ.get(f"{PREFIX}{field_name.upper()}_FILE")
        if not path:
            return None, field_name, False
        try:
            content = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(
                f"{PREFIX}{field_name.upper()}_FILE: cannot read {path}: {exc}"
            ) from exc
        return content, field_name, self.field_is_complex(field)

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, complex_ = self.get_field_value(field, name)
            if value is not None:
                values[key] = json.loads(value) if complex_ else value
        return values


class Settings(BaseSettings):
    """What every service reads. Services subclass it to add their own settings."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, extra="ignore", validate_default=True, validate_by_name=True
    )

    kafka_bootstrap_servers: str = Field(
        default="localhost:9092", description="Kafka brokers, comma-separated host:port."
    )
    clickhouse_url: str = Field(
        default="chdb://.data/clickhouse",
        description="`http(s)://user:pass@host:8123/db` for a ClickHouse server, "
        "`chdb:///path` for the embedded engine (a relative path is taken from the "
        "working directory).",
    )
    redis_url: str = Field(
        default="redis://localhost:6379/0",
        description="Redis: reference data, rate limits, the read cache.",
    )
    topic_raw: str = Field(default=topics.RAW, description="Raw records from upstream.")
    topic_normalized: str = Field(
        default=topics.NORMALIZED, description="Validated, canonical records."
    )
    topic_dlq: str = Field(default=topics.DLQ, description="Rejected messages with reasons.")
    topic_partitions: int = Field(
        default=3, ge=1, description="Partitions of a topic a service creates when missing."
    )
    consumer_group_prefix: str = Field(
        default="wellstream",
        min_length=1,
        description="Consumer groups are `<prefix>.validator`, `<prefix>.writer`, ...",
    )
    host: str = Field(
        default="0.0.0.0",  # noqa: S104 - services run in containers; bind all interfaces
        description="Interface the HTTP server binds.",
    )
    port: Port = 8000
    api_keys: list[ApiKey] = Field(
        default_factory=list,
        description='JSON list of `{"name", "key", "scopes"}`; scopes `read`, `ingest`, '
        "`admin`; keys of at least 16 characters.",
    )
    cors_allowed_origins: list[str] = Field(
        default_factory=list, description="JSON list of origins allowed by CORS."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Log level."
    )
    log_json: bool = Field(default=True, description="JSON log lines (false: plain text).")

    @field_validator("clickhouse_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("chdb://", "http://", "https://")):
            raise ValueError("must start with chdb://, http:// or https://")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        assert isinstance(env_settings, EnvSettingsSource)
        return init_settings, env_settings, _FileSecretsSource(settings_cls), dotenv_settings


class RateLimitedSettings(Settings):
    """A service limiting each API key to ``rate_limit_requests`` per
    ``rate_limit_period_seconds`` (``runtime.ratelimit``, counted in Redis)."""

    rate_limit_requests: RateLimitRequests = 600
    rate_limit_period_seconds: float = Field(
        default=60.0, gt=0, description="The window of `rate_limit_requests`, in seconds."
    )


class ConsumerSettings(Settings):
    """A service consuming Kafka in batches."""

    batch_max_records: BatchRecords = 2_000
    max_poll_interval_ms: int = Field(
        default=300_000,
        ge=10_000,
        description="Kafka drops a consumer that takes longer than this between polls.",
    )


class SettingsError(SystemExit):
    """Raised at start-up for a bad setting; the message names each variable."""


S = TypeVar("S", bound="Settings")


def load(cls: type[S], **overrides: Any) -> S:
    """Build settings or stop with one line per bad variable, never a traceback. Warns
    of each deprecated variable set."""
    environ = {name.upper() for name in os.environ}
    for old, new in deprecated_names(cls).items():
        if old in environ:
            log.warning("%s is deprecated, set %s instead", old, new)
    try:
        return cls(**overrides)
    except ValidationError as exc:
        lines = [f"  {_variable(err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise SettingsError("invalid settings:\n" + "\n".join(lines)) from None


def _variable(loc: tuple[int | str, ...]) -> str:
    name = "_".join(str(p) for p in loc[:1]).upper()
    # a renamed setting's error is located at its alias, the full variable name
    return name if name.startswith(PREFIX) else PREFIX + name
