"""Raw messages to canonical records and dead letters: the validator's pure core.

``process_batch`` is the whole per-batch work without Kafka or Redis (the benchmark
times it); the handler calls it after fetching the reference data of the batch's wells.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Final, NamedTuple

import msgspec

from contracts import DeadLetter, ErrorDetail, KafkaSource
from contracts.identifiers import LAST_ACCEPTED_MS, canonical_code, code_problem
from contracts.records import ENCODER, CanonicalRecord, decode_canonical, encode
from validator.canonical import Clock
from validator.clean import CleanPath
from validator.enrich import WellRef
from validator.explain import explain
from validator.messages import Normalized, RawMessage
from validator.parse import Rejected, decode
from validator.rules import Flag, Policy

__all__ = [
    "LAST_ACCEPTED_MS",
    "Normalized",
    "Processed",
    "RawMessage",
    "Rejection",
    "process_batch",
    "wells_of",
]


class Rejection(NamedTuple):
    key: bytes | None
    dead_letter: DeadLetter
    correlation_id: str | None
    traceparent: bytes | None = None


class Processed(NamedTuple):
    normalized: list[Normalized]
    rejected: list[Rejection]
    flags: dict[str, int]
    """How many kept records carry each flag."""


def accepted_ms(header: str | None, kafka_timestamp_ms: int) -> int:
    """When the record was first accepted: the ingestor's header (its text, when the
    message has one), else the Kafka time. A header outside what ``version`` holds (before
    1970 or after 2109) is not a time to trust; the Kafka time is brought within it."""
    if header:
        try:
            value = int(header)
        except ValueError:
            pass
        else:
            if 0 <= value <= LAST_ACCEPTED_MS:
                return value
    return min(max(0, kafka_timestamp_ms), LAST_ACCEPTED_MS)


def process_batch(
    messages: Iterable[RawMessage],
    policy: Policy,
    reference: Mapping[str, WellRef | None] | None = None,
    now: datetime | None = None,
) -> Processed:
    """Every raw message of a batch as a canonical record or a dead letter, nothing lost.

    ``reference`` maps canonical well codes to their reference data (None: unknown);
    None turns enrichment off. Clean records take the clean path (``clean``), the rest
    the explaining one (``explain``), which says why a record is rejected.
    Each record is encoded as soon as it is built and only its bytes are kept: holding
    thousands of records until the end of a batch costs more than building them.
    """
    clock = Clock(now or datetime.now(UTC))
    out = _Output()
    left = out.add_clean(messages, CleanPath(policy, clock, reference))
    rejected = []
    for message in left:
        result = explain(message, policy, reference, clock)
        if isinstance(result, CanonicalRecord):
            out.add(result, message.correlation_id, message.traceparent)
        else:
            rejected.append(reject(message, result))
    out.flag_split_wells()
    return Processed(out.normalized, rejected, out.flags)


_encode_into: Final = ENCODER.encode_into


class _FieldOf(msgspec.Struct):
    field_code: str


_field_of: Final = msgspec.json.Decoder(_FieldOf).decode


class _Output:
    """Kept records, encoded and counted, with the (well, period, data source) of each,
    in order, to find the wells reported to several fields."""

    def __init__(self) -> None:
        self.normalized: list[Normalized] = []
        self.flags: dict[str, int] = {}
        #: (well, period, data source) of each record, in order
        self.keys: list[tuple[str, str, str]] = []
        #: Encoded into, then copied: cheaper than a buffer grown for every record.
        self.buffer = bytearray(4_096)

    def add(
        self, record: CanonicalRecord, correlation_id: str | None, traceparent: bytes | None
    ) -> None:
        _encode_into(record, self.buffer)
        well = record.well_code
        self.normalized.append(Normalized(well, bytes(self.buffer), correlation_id, traceparent))
        self.keys.append((well, record.period, record.data_source))
        for flag in record.flags:
            self.flags[flag] = self.flags.get(flag, 0) + 1

    def add_clean(self, messages: Iterable[RawMessage], path: CleanPath) -> list[RawMessage]:
        """Add the record of each message the clean path answers for; the others, in
        order. ``add``, unrolled: it runs once per record."""
        record_of, encode_into, buffer = path.record, _encode_into, self.buffer
        normalized, keys, flags = self.normalized, self.keys, self.flags
        left: list[RawMessage] = []
        for message in messages:
            record = record_of(message)
            if record is None:
                left.append(message)
                continue
            encode_into(record, buffer)
            well = record.well_code
            normalized.append(
                Normalized(well, bytes(buffer), message.correlation_id, message.traceparent)
            )
            keys.append((well, record.period, record.data_source))
            for flag in record.flags:
                flags[flag] = flags.get(flag, 0) + 1
        return left

    def flag_split_wells(self) -> None:
        """Flag the records of one well and period reported to several fields in the
        batch (each repeats the well's producing time rather than a share of it)."""
        keys = self.keys
        if len(set(keys)) == len(keys):
            return  # each well and period once: the usual batch
        counts = Counter(keys)
        repeated = [i for i, key in enumerate(keys) if counts[key] > 1]
        fields = {i: _field_of(self.normalized[i].body).field_code for i in repeated}
        first: dict[tuple[str, str, str], str] = {}
        for i in repeated:
            first.setdefault(keys[i], fields[i])
        split = {keys[i] for i in repeated if fields[i] != first[keys[i]]}
        flag = Flag.SPLIT_ACROSS_FIELDS.value
        for i in repeated:
            if keys[i] in split:
                item = self.normalized[i]
                record = decode_canonical(item.body)
                record.flags.append(flag)
                self.normalized[i] = msgspec.structs.replace(item, body=encode(record))
                self.flags[flag] = self.flags.get(flag, 0) + 1


def wells_of(messages: Iterable[RawMessage]) -> set[str]:
    """The canonical well codes of a batch, to fetch their reference data first: every
    well either path will look up, so none is called unknown for want of a lookup."""
    wells = set()
    for message in messages:
        try:
            well = _well_code_of(message.value).well_code
        except (msgspec.DecodeError, msgspec.ValidationError):
            well = _well_code_as_read(message.value)
        else:
            if type(well) is int and not _INT64_MIN <= well <= _INT64_MAX:
                well = _well_code_as_read(message.value)  # the explaining path reads it so
        if well is not None and code_problem(text := str(well)) is None:
            wells.add(canonical_code(text))
    return wells


class _WellCode(msgspec.Struct):
    well_code: int | float | str | None = None


_well_code_of: Final = msgspec.json.Decoder(_WellCode).decode
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1


def _well_code_as_read(value: bytes) -> int | float | str | None:
    """The well code as the explaining path reads the message (byte-order mark, Latin-1,
    integers beyond 64 bits), or None when it has none."""
    try:
        obj, _ = decode(value)
    except Rejected:
        return None
    well = obj.get("well_code")
    return well if type(well) in (int, float, str) else None


def reject(message: RawMessage, errors: list[ErrorDetail]) -> Rejection:
    source = (
        KafkaSource(topic=message.topic, partition=message.partition, offset=message.offset)
        if message.topic
        else None
    )
    letter = DeadLetter.for_payload(message.value, stage="validator", errors=errors, source=source)
    letter.accepted_at_ms = message.accepted_ms  # what the record's version would use
    return Rejection(message.key, letter, message.correlation_id, message.traceparent)
