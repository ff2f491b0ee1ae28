"""What the validator reads and writes: a raw Kafka message, and a canonical record ready
to publish."""

from typing import NamedTuple

import msgspec


class RawMessage(NamedTuple):
    """One raw Kafka message and where it came from."""

    value: bytes
    topic: str = ""
    partition: int = -1
    offset: int = -1
    accepted_ms: int = 0
    key: bytes | None = None
    correlation_id: str | None = None
    traceparent: bytes | None = None


class Normalized(msgspec.Struct, frozen=True, gc=False):
    """A canonical record ready to publish: its key (the canonical well code) and body."""

    key: str
    body: bytes
    correlation_id: str | None
    traceparent: bytes | None = None
