"""Settings shared by every service: 12-factor, prefix ``WELLSTREAM_``, checked at start-up.

Any setting may also be read from a file named by ``WELLSTREAM_<NAME>_FILE`` (as
Kubernetes mounts secrets); the variable itself wins when both are set.

Names say their unit: durations end in ``_seconds`` (Kafka client timeouts, which mirror
Kafka's own ``*.ms`` settings, in ``_ms``), sizes in ``_bytes``. A renamed setting keeps
its old variable as a deprecated alias (``renamed``); ``load`` warns when one is set.
"""

import logging
import os
from typing import Annotated, Any, Literal, Self, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    FilePath,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from contracts import topics
from contracts.identifiers import DEFAULT_ORGANISATION
from runtime.sources import EnvSource, FileSecretsSource, plain_list

PREFIX = "WELLSTREAM_"
Scope = Literal["read", "ingest", "admin", "platform"]
KafkaProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
CaFile = Annotated[FilePath | None, Field(default=None)]

log = logging.getLogger(__name__)

# Declared once, with a default per service: ``port: Port = 8001``.
Port = Annotated[int, Field(ge=1, le=65535, description="HTTP port of the service.")]
BatchRecords = Annotated[
    int, Field(ge=1, description="Most records a consumer takes from Kafka in one batch.")
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
    #: The key's organisation; "" (absent) is ``Settings.default_organisation``, which
    #: ``Settings`` fills in.
    organisation: str = ""

    @field_validator("key")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("API keys must be at least 16 characters long")
        return value


class Settings(BaseSettings):
    """What every service reads. Services subclass it to add their own settings."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, extra="ignore", validate_default=True, validate_by_name=True
    )

    kafka_bootstrap_servers: str = Field(
        default="localhost:9092", description="Kafka brokers, comma-separated host:port."
    )
    kafka_security_protocol: KafkaProtocol = Field(
        default="PLAINTEXT",
        description="`PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL` (managed Kafka).",
    )
    kafka_sasl_mechanism: SaslMechanism = Field(
        default="PLAIN", description="`PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`."
    )
    kafka_sasl_username: str | None = Field(default=None, description="SASL user (`SASL_*`).")
    kafka_sasl_password: SecretStr | None = Field(
        default=None, description="SASL password (`SASL_*`); a secret, e.g. from `_FILE`."
    )
    kafka_ssl_cafile: CaFile = Field(
        description="PEM CA bundle verifying the brokers (`SSL`, `SASL_SSL`); "
        "default: the system's CAs."
    )
    kafka_ssl_certfile: CaFile = Field(description="PEM client certificate (mutual TLS).")
    kafka_ssl_keyfile: CaFile = Field(
        description="PEM key of `kafka_ssl_certfile` (when not in the same file)."
    )
    clickhouse_url: str = Field(
        default="chdb://.data/clickhouse",
        description="`http(s)://user:pass@host:8123/db` for a ClickHouse server, "
        "`chdb:///path` for the embedded engine (a relative path is taken from the "
        "working directory).",
    )
    clickhouse_ca_file: CaFile = Field(
        description="PEM CA bundle verifying an `https://` ClickHouse (default: the system's)."
    )
    redis_url: str = Field(
        default="redis://localhost:6379/0",
        description="Redis: reference data, rate limits, the read cache. "
        "`rediss://` for TLS; `redis://user:password@host` for an ACL user.",
    )
    redis_ca_file: CaFile = Field(
        description="PEM CA bundle verifying a `rediss://` Redis (default: the system's)."
    )
    topic_raw: str = Field(default=topics.RAW, description="Raw records from upstream.")
    topic_normalized: str = Field(
        default=topics.NORMALIZED, description="Validated, canonical records."
    )
    topic_dlq: str = Field(default=topics.DLQ, description="Rejected messages with reasons.")
    topic_partitions: int = Field(
        default=3, ge=1, description="Partitions of a topic a service creates when missing."
    )
    topic_replication_factor: int = Field(
        default=1, ge=1, description="Replicas of a topic a service creates (managed Kafka: 3)."
    )
    topic_max_message_bytes: int = Field(
        default=1_048_576 + 65_536,
        ge=1024,
        description="`max.message.bytes` of a topic a service creates: its largest record "
        "batch (after compression).",
    )
    producer_max_request_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Producers' `max_request_size`: the largest record they send; at most "
        "`topic_max_message_bytes`.",
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
        description='JSON list of `{"name", "key", "scopes", "organisation"}`; scopes '
        "`read`, `ingest`, `admin` (of the key's organisation), `platform` (every "
        "organisation); keys of at least 16 characters; `organisation` absent: "
        "`default_organisation`.",
    )
    default_organisation: str = Field(
        default=DEFAULT_ORGANISATION,
        min_length=1,
        max_length=128,
        description="The organisation of an API key or JWT that names none, and of a raw "
        "record that names none. Records stored before organisations belong to `default`: "
        "keep it while they do.",
    )
    cors_allowed_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed by CORS, comma-separated or a JSON list.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Log level."
    )
    log_json: bool = Field(default=True, description="JSON log lines (false: plain text).")
    otel_enabled: bool = Field(
        default=False, description="OpenTelemetry traces, `traceparent` across Kafka hops."
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector (`http://host:4318`) the traces go to when "
        "`otel_enabled`; unset: spans are made and propagated, not exported.",
    )

    @field_validator("clickhouse_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("chdb://", "http://", "https://")):
            raise ValueError("must start with chdb://, http:// or https://")
        return value

    @field_validator("log_level", "kafka_security_protocol", "kafka_sasl_mechanism", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        sasl = self.kafka_security_protocol.startswith("SASL_")
        if sasl and not (self.kafka_sasl_username and self.kafka_sasl_password):
            raise ValueError(
                f"{PREFIX}KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                f"{PREFIX}KAFKA_SASL_USERNAME and {PREFIX}KAFKA_SASL_PASSWORD"
            )
        if self.kafka_ssl_keyfile and not self.kafka_ssl_certfile:
            raise ValueError(f"{PREFIX}KAFKA_SSL_KEYFILE needs {PREFIX}KAFKA_SSL_CERTFILE")
        if self.producer_max_request_bytes > self.topic_max_message_bytes:
            raise ValueError(
                f"{PREFIX}PRODUCER_MAX_REQUEST_BYTES must not exceed "
                f"{PREFIX}TOPIC_MAX_MESSAGE_BYTES, or the broker refuses what is sent"
            )
        self.api_keys = [
            key
            if key.organisation
            else key.model_copy(update={"organisation": self.default_organisation})
            for key in self.api_keys
        ]
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        files = FileSecretsSource(settings_cls)
        return init_settings, EnvSource(settings_cls), files, dotenv_settings


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
    """Build settings or stop with one line per bad variable, naming it and what it
    expects, never a traceback. Warns of each deprecated variable set."""
    environ = {name.upper() for name in os.environ}
    for old, new in deprecated_names(cls).items():
        if old in environ:
            log.warning("%s is deprecated, set %s instead", old, new)
    try:
        return cls(**overrides)
    except ValidationError as exc:
        raise SettingsError("\n".join(_line(cls, e) for e in exc.errors())) from None
    except ValueError as exc:  # a source failed, e.g. an unreadable *_FILE
        raise SettingsError(f"invalid setting: {exc}") from None


def _line(cls: type[Settings], error: ErrorDetails) -> str:
    message = error["msg"].removeprefix("Value error, ")
    field = cls.model_fields.get(str(error["loc"][0])) if error["loc"] else None
    if error["type"] == "list_type" and field is not None:
        plain = plain_list(field.annotation)
        message += " (comma-separated values or a JSON list)" if plain else " (a JSON list)"
    if not error["loc"]:  # a check across settings names its variables itself
        return f"invalid settings: {message}"
    return f"invalid setting {_variable(error['loc'])}: {message}"


def _variable(loc: tuple[int | str, ...]) -> str:
    name = "_".join(str(p) for p in loc[:1]).upper()
    # a renamed setting's error is located at its alias, the full variable name
    return name if name.startswith(PREFIX) else PREFIX + name
