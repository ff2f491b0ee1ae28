"""Helpers shared by the validator's unit tests."""

from datetime import UTC, datetime
from typing import Any

import orjson

from validator.pipeline import RawMessage

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
ACCEPTED_MS = 1_750_000_000_000


def good(**changes: Any) -> dict[str, Any]:
    """A clean raw record in seed-API shape; ``changes`` set (or, as None-valued
    ``_drop``, remove) fields."""
    record: dict[str, Any] = {
        "well_code": 1234,
        "production_period": "2024-01",
        "field_code": 77,
        "field_name": "Marlim",
        "well_name": "MRL-123D",
        "days_on_production": 31,
        "oil_production_kbd": 1.5,
        "gas_production_mmcfd": 2.0,
        "water_production_kbd": 0.5,
        "liquids_production_kbd": None,
        "data_source": "anp",
        "source_data": "anp-2024-01.csv",
    }
    record.update(changes)
    return {k: v for k, v in record.items() if v is not DROP}


DROP: Any = object()


def message(body: dict[str, Any] | bytes, offset: int = 0, **meta: Any) -> RawMessage:
    value = body if isinstance(body, bytes) else orjson.dumps(body)
    fields: dict[str, Any] = {
        "topic": "production.raw.v1",
        "partition": 0,
        "offset": offset,
        "accepted_ms": ACCEPTED_MS,
    }
    fields.update(meta)
    return RawMessage(value, **fields)
