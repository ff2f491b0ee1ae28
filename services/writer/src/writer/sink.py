"""Pure helpers of the insert path: canonical records to ClickHouse columns, Kafka
lineage, and the insert deduplication token.

A batch is cut into one slice per partition. Each slice is one insert whose
deduplication token names its topic, partition and offset range: Kafka never changes
what sits at an offset, so the same range always carries the same rows, and a slice
inserted again after a crash (same range, not yet committed) is recognised by
ClickHouse and skipped.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
from aiokafka import ConsumerRecord
from pydantic import ValidationError

from contracts import CanonicalRecord, ErrorCode, ErrorDetail

HISTORY_TABLE: Final = "production_history"

#: Columns copied as they are from the canonical record.
_PLAIN: Final = (
    "record_id",
    "version",
    "well_code",
    "well_code_raw",
    "field_code",
    "field_name",
    "well_reference",
    "well_name",
    "period",
    "period_start",
    "period_type",
    "days_in_period",
    "days_on_production",
    "oil_bbl",
    "gas_mcf",
    "water_bbl",
    "liquids_bbl",
    "oil_production_kbd",
    "gas_production_mmcfd",
    "water_production_kbd",
    "liquids_production_kbd",
    "boe",
    "water_cut",
    "gor",
    "flags",
    "operator",
    "basin",
    "country",
    "well_status",
    "data_source",
    "revision",
    "source_topic",
    "source_partition",
    "source_offset",
    "ingested_at",
    "normalized_at",
    "schema_version",
)
#: Columns holding JSON text of a nested field.
_JSON: Final = ("original_values", "extra")
_LINEAGE: Final = ("kafka_topic", "kafka_partition", "kafka_offset")
HISTORY_COLUMNS: Final = _PLAIN + _JSON + _LINEAGE


@dataclass(slots=True)
class Slice:
    """The records of one partition in one batch, in offset order."""

    topic: str
    partition: int
    records: list[CanonicalRecord] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)

    def add(self, record: CanonicalRecord, offset: int) -> None:
        self.records.append(record)
        self.offsets.append(offset)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def token(self) -> str:
        return dedup_token(self.topic, self.partition, self.offsets[0], self.offsets[-1])

    def split(self) -> tuple["Slice", "Slice"]:
        """Two halves, each with its own (narrower) offset range and so its own token."""
        mid = len(self.records) // 2
        return (
            Slice(self.topic, self.partition, self.records[:mid], self.offsets[:mid]),
            Slice(self.topic, self.partition, self.records[mid:], self.offsets[mid:]),
        )


def dedup_token(topic: str, partition: int, first: int, last: int) -> str:
    return f"{topic}/{partition}/{first}-{last}"


def parse(value: bytes | None) -> CanonicalRecord | list[ErrorDetail]:
    """A canonical record, or the reasons it is not one (bad data is a result)."""
    try:
        return CanonicalRecord.model_validate_json(value or b"")
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            return [ErrorDetail(code=ErrorCode.UNPARSEABLE_JSON, message=str(exc)[:500])]
        return [
            ErrorDetail(
                field=".".join(str(p) for p in err["loc"]) or None,
                code=ErrorCode.MISSING_FIELD
                if err["type"] == "missing"
                else ErrorCode.INVALID_VALUE,
                message=err["msg"],
            )
            for err in exc.errors()
        ]


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode() if value else "{}"


def to_columns(part: Slice) -> list[list[Any]]:
    """Column-oriented values of ``part`` in the order of ``HISTORY_COLUMNS``."""
    records = part.records
    columns: list[list[Any]] = [[getattr(r, name) for r in records] for name in _PLAIN]
    columns.append(
        [_json_text({k: v.model_dump() for k, v in r.original_values.items()}) for r in records]
    )
    columns.append([_json_text(r.extra) for r in records])
    columns.append([part.topic] * len(records))
    columns.append([part.partition] * len(records))
    columns.append(list(part.offsets))
    return columns


def chunks(batch: Iterable[ConsumerRecord], size: int) -> list[list[ConsumerRecord]]:
    """The messages of ``batch`` per partition in offset order, cut where the offset
    crosses a multiple of ``size``. Each chunk is one insert; a replay whose batches are
    cut elsewhere still repeats most chunks exactly, and so their deduplication tokens."""
    by_partition: dict[tuple[str, int], list[list[ConsumerRecord]]] = {}
    for msg in batch:
        runs = by_partition.setdefault((msg.topic, msg.partition), [])
        last = runs[-1][-1].offset if runs else None
        if last is not None and msg.offset <= last:
            raise ValueError(f"offsets out of order in {msg.topic}/{msg.partition}")
        if last is None or last // size != msg.offset // size:
            runs.append([])
        runs[-1].append(msg)
    return [chunk for runs in by_partition.values() for chunk in runs]


def offset_slices(records: Sequence[CanonicalRecord], topic: str = "") -> list[Slice]:
    """One slice for records that did not come from Kafka (benchmarks, backfills): the
    position in the list stands in for the offset, and there is no token."""
    return [Slice(topic, -1, list(records), list(range(len(records))))] if records else []
