"""Dead letters: rejected messages with every reason found (``production.dlq.v1``)."""

import base64
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class ErrorCode(StrEnum):
    """Why a record was rejected (or, for flags, what was odd about it)."""

    UNPARSEABLE_JSON = "unparseable_json"
    NOT_AN_OBJECT = "not_an_object"
    MISSING_FIELD = "missing_field"
    INVALID_VALUE = "invalid_value"
    INVALID_PERIOD = "invalid_period"
    UNKNOWN_UNIT = "unknown_unit"
    FUTURE_PERIOD = "future_period"
    PRODUCING_TIME_EXCEEDED = "producing_time_exceeded"
    RATE_CEILING_EXCEEDED = "rate_ceiling_exceeded"
    INSERT_REJECTED = "insert_rejected"


class ErrorDetail(BaseModel):
    field: str | None = None
    code: str
    message: str


class KafkaSource(BaseModel):
    topic: str
    partition: int
    offset: int


Stage = Literal["ingestor", "validator", "writer"]


class DeadLetter(BaseModel):
    """One rejected message. ``source`` is absent for HTTP intake, where ``line`` is set."""

    stage: Stage
    errors: list[ErrorDetail] = Field(min_length=1)
    source: KafkaSource | None = None
    line: int | None = None
    failed_at: datetime
    payload: str | None = None
    payload_base64: str | None = None

    @classmethod
    def for_payload(
        cls,
        raw: bytes,
        *,
        stage: Stage,
        errors: list[ErrorDetail],
        source: KafkaSource | None = None,
        line: int | None = None,
    ) -> "DeadLetter":
        """Keep the original bytes as text when they are UTF-8, else base64."""
        try:
            text: str | None = raw.decode("utf-8")
            encoded = None
        except UnicodeDecodeError:
            text, encoded = None, base64.b64encode(raw).decode("ascii")
        return cls(
            stage=stage,
            errors=errors,
            source=source,
            line=line,
            failed_at=datetime.now(UTC),
            payload=text,
            payload_base64=encoded,
        )

    def original_bytes(self) -> bytes:
        if self.payload is not None:
            return self.payload.encode("utf-8")
        return base64.b64decode(self.payload_base64 or "")
