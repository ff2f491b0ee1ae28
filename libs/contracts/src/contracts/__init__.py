"""Shared contracts: record models, identity, derived values, topic names, units. Depends
on pydantic and msgspec only."""

from contracts import derived, identifiers, topics, units
from contracts.deadletters import DeadLetter, ErrorCode, ErrorDetail, KafkaSource
from contracts.records import SCHEMA_VERSION, CanonicalRecord, OriginalValue, RawRecord, VolumeIn

__all__ = [
    "SCHEMA_VERSION",
    "CanonicalRecord",
    "DeadLetter",
    "ErrorCode",
    "ErrorDetail",
    "KafkaSource",
    "OriginalValue",
    "RawRecord",
    "VolumeIn",
    "derived",
    "identifiers",
    "topics",
    "units",
]
