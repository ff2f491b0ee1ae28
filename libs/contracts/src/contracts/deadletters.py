"""Dead letters: rejected messages with every reason found (``production.dlq.v1``)."""

import base64
import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

import msgspec
from pydantic import BaseModel, Field

#: What a dead letter keeps of its payload at most, in bytes of its encoded JSON text
#: (escaping included): a dead letter stays far below any producer's request size.
PAYLOAD_CAP_BYTES = 16 * 1024
#: What a dead letter keeps of each error's message, in characters, and how many errors:
#: a message may quote the value it refuses, of any size.
MESSAGE_CAP_CHARS = 1_000
ERRORS_CAP = 100


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
    RECORD_TOO_LARGE = "record_too_large"
    LIMIT_EXCEEDED = "limit_exceeded"  # nested too deep, too many fields, a field too long
    #: A stage failed on this message alone (a batch split down to it), not on bad data
    #: it could name; replay it once the stage is fixed.
    PROCESSING_FAILED = "processing_failed"
    #: What a stage would publish for this message is over the producer's request size.
    MESSAGE_TOO_LARGE = "message_too_large"
    #: A record names an owner other than the organisation of the key that posted it.
    ORGANISATION_MISMATCH = "organisation_mismatch"


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
    """One rejected message. ``source`` is absent for HTTP intake, where ``line`` is set.

    A payload beyond a cap is cut (``payload_truncated``); ``payload_bytes`` and
    ``payload_sha256`` then describe the whole original, which a replay cannot rebuild.
    ``accepted_at_ms`` is when the record was first accepted (epoch milliseconds), kept
    so a replay can carry it on. ``organisation`` owns the dead letter: the record's
    owner, or the organisation of the key that posted it (absent: the default one)."""

    stage: Stage
    errors: list[ErrorDetail] = Field(min_length=1)
    source: KafkaSource | None = None
    line: int | None = None
    failed_at: datetime
    payload: str | None = None
    payload_base64: str | None = None
    payload_truncated: bool = False
    payload_bytes: int | None = None
    payload_sha256: str | None = None
    accepted_at_ms: int | None = None
    organisation: str | None = None

    @classmethod
    def for_payload(
        cls,
        raw: bytes,
        *,
        stage: Stage,
        errors: list[ErrorDetail],
        source: KafkaSource | None = None,
        line: int | None = None,
        cap_bytes: int = PAYLOAD_CAP_BYTES,
    ) -> "DeadLetter":
        """Keep the original bytes as text when they are UTF-8, else base64; either cut
        so that its encoded form fits in ``cap_bytes``. Errors are kept up to
        ``ERRORS_CAP``, each message up to ``MESSAGE_CAP_CHARS``. Its owner is the one the
        payload names (a stage that knows better, the ingestor, sets it after)."""
        try:
            text: str | None = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            kept_text = _text_within(text, cap_bytes)
            truncated, kept, encoded = len(kept_text) < len(text), kept_text, None
        else:
            kept_raw = raw[: cap_bytes // 4 * 3]
            truncated, kept, encoded = len(kept_raw) < len(raw), None, _b64(kept_raw)
        return cls(
            stage=stage,
            errors=[_bounded(error) for error in errors[:ERRORS_CAP]],
            source=source,
            line=line,
            failed_at=datetime.now(UTC),
            payload=kept,
            payload_base64=encoded,
            payload_truncated=truncated,
            payload_bytes=len(raw) if truncated else None,
            payload_sha256=hashlib.sha256(raw).hexdigest() if truncated else None,
            organisation=owner_named(raw),
        )

    def original_bytes(self) -> bytes:
        """The payload's bytes: the whole original unless ``payload_truncated``."""
        if self.payload is not None:
            return self.payload.encode("utf-8")
        return base64.b64decode(self.payload_base64 or "")


def owner_named(raw: bytes) -> str | None:
    """The ``organisation`` a message's JSON object names, if it is one that does (text,
    not blank); None otherwise (the reader's default organisation owns it)."""
    try:
        owner = _read_owner(raw).organisation
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None
    return owner or None


class _Owner(msgspec.Struct):
    """What ``owner_named`` reads of a message: its other fields are skipped."""

    organisation: str | None = None


_read_owner = msgspec.json.Decoder(_Owner).decode


def _bounded(error: ErrorDetail) -> ErrorDetail:
    if len(error.message) <= MESSAGE_CAP_CHARS and len(error.field or "") <= MESSAGE_CAP_CHARS:
        return error
    field = error.field[:MESSAGE_CAP_CHARS] if error.field else error.field
    message = error.message[: MESSAGE_CAP_CHARS - 1] + "…"
    return ErrorDetail(field=field, code=error.code, message=message)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _text_within(text: str, cap_bytes: int) -> str:
    """The longest prefix of ``text`` whose JSON string encoding fits in ``cap_bytes``:
    escaping grows a control character sixfold and a quote twofold, so the encoded
    length is measured (a binary search over at most ``cap_bytes`` characters)."""
    if len(text) <= cap_bytes and len(msgspec.json.encode(text)) <= cap_bytes:
        return text
    low, high = 0, min(len(text), cap_bytes)  # a prefix this long fits, this long not
    while high - low > 1:
        middle = (low + high) // 2
        if len(msgspec.json.encode(text[:middle])) <= cap_bytes:
            low = middle
        else:
            high = middle
    return text[:low]
