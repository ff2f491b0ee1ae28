"""Shared contracts: record models, topic names, units. Depends on pydantic only."""

from contracts import topics, units
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
    "topics",
    "units",
]
