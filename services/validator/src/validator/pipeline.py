"""Raw messages to canonical records and dead letters: the validator's pure core.

``process_batch`` is the whole per-batch work without Kafka or Redis (the benchmark
times it); the handler calls it after fetching the reference data of the batch's wells.
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Final, NamedTuple

import msgspec

from contracts import DeadLetter, ErrorDetail, KafkaSource
from validator import canonical, native
from validator.enrich import WellRef, enrich
from validator.fastpath import FastPath
from validator.normalize import VERSION_SHIFT, canonical_code, record_id, version
from validator.parse import Rejected, decode, fields_of
from validator.rules import Findings, Flag, Policy
from validator.structs import CANONICAL_DECODER, ENCODER, Canonical, Normalized, RawMessage

__all__ = ["Normalized", "Processed", "RawMessage", "Rejection", "process_batch", "wells_of"]


class Rejection(NamedTuple):
    key: bytes | None
    dead_letter: DeadLetter
    correlation_id: str | None


class Processed(NamedTuple):
    normalized: list[Normalized]
    rejected: list[Rejection]
    flags: dict[str, int]
    """How many kept records carry each flag."""


#: The last millisecond ``version`` holds (42 bits: the year 2109).
LAST_ACCEPTED_MS: Final = (1 << VERSION_SHIFT) - 1


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
    None turns enrichment off. Clean records take a fast path (the native one, else the
    Python one: ``native``, ``fastpath``), the rest the full one.
    Each record is encoded as soon as it is built and only its bytes are kept: holding
    thousands of records until the end of a batch costs more than building them.
    """
    now = now or datetime.now(UTC)
    out = _Output(now)
    path = FastPath(policy, now, reference)
    record_of = path.record
    slow: list[RawMessage] = []
    normalized, keys, buffer = out.normalized, out.keys, out.buffer
    left = native.run(path, messages, reference, normalized, keys, out.flags)
    # _Output.add, unrolled for the Python fast path: it runs once per record.
    # The fast path sets few flags (identifier normalized, unknown well), as shared tuples:
    # the tuples are counted once the loop is done, then the flags in each.
    flag_sets: list[tuple[str, ...]] = []
    for message in left:
        record = record_of(message)
        if record is None:
            slow.append(message)
            continue
        _encode_into(record, buffer)
        well = record.well_code
        normalized.append(Normalized(well, bytes(buffer), message[6]))  # .correlation_id
        keys.append((well, record.period, record.data_source))
        flag_sets.append(record.flags)  # type: ignore[arg-type]  # see above
    for flag_set, count in Counter(flag_sets).items():
        for flag in flag_set:
            out.flags[flag] = out.flags.get(flag, 0) + count
    rejected = _full_path(slow, policy, reference, now, out)
    out.flag_split_wells()
    return Processed(out.normalized, rejected, out.flags)


_encode_into: Final = ENCODER.encode_into


class _FieldOf(msgspec.Struct):
    field_code: str


_field_of: Final = msgspec.json.Decoder(_FieldOf).decode


class _Output:
    """Kept records, encoded and counted, with the (well, period, data source) of each,
    in order, to find the wells reported to several fields."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.normalized: list[Normalized] = []
        self.flags: dict[str, int] = {}
        #: (well, period, data source) of each record, in order
        self.keys: list[tuple[str, str, str]] = []
        #: Encoded into, then copied: cheaper than a buffer grown for every record.
        self.buffer = bytearray(4_096)
        self._ingested: dict[int, datetime] = {}

    def add(self, record: Canonical, correlation_id: str | None) -> None:
        _encode_into(record, self.buffer)
        well = record.well_code
        self.normalized.append(Normalized(well, bytes(self.buffer), correlation_id))
        self.keys.append((well, record.period, record.data_source))
        for flag in record.flags:
            self.flags[flag] = self.flags.get(flag, 0) + 1

    def emit(self, record: Canonical, message: RawMessage) -> None:
        """Add a record of the full path, with the message's lineage."""
        accepted = message.accepted_ms
        if (at := self._ingested.get(accepted)) is None:
            at = self._ingested[accepted] = datetime.fromtimestamp(accepted / 1000, UTC)
        record.source_topic = message.topic
        record.source_partition = message.partition
        record.source_offset = message.offset
        record.ingested_at = at
        record.normalized_at = self.now
        record.version = version(record.revision, accepted)
        self.add(record, message.correlation_id)

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
                record = CANONICAL_DECODER.decode(item.body)
                record.flags.append(flag)
                body = ENCODER.encode(record)
                self.normalized[i] = Normalized(item.key, body, item.correlation_id)
                self.flags[flag] = self.flags.get(flag, 0) + 1


def _full_path(
    messages: Sequence[RawMessage],
    policy: Policy,
    reference: Mapping[str, WellRef | None] | None,
    now: datetime,
    out: _Output,
) -> list[Rejection]:
    """Parse and check every rule, collecting each finding; kept records go to ``out``."""
    rejected: list[Rejection] = []
    today = now.date()
    for message in messages:
        try:
            obj, latin1 = decode(message.value)
            fields = fields_of(obj)
        except Rejected as exc:
            rejected.append(reject(message, exc.errors))
            continue
        findings = Findings(policy, [Flag.LATIN1_DECODED.value] if latin1 else [])
        record = canonical.build(fields, findings, policy, today)
        if reference is not None:
            well = canonical_code(fields["well_code"])
            enrich(record, well, reference.get(well), findings)
        if record is None or findings.errors:
            rejected.append(reject(message, findings.errors))
            continue
        record.record_id = record_id(
            record.well_code,
            record.field_code,
            record.period,
            record.period_type,
            record.data_source,
        )
        out.emit(record, message)
    return rejected


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
                well = _well_code_as_read(message.value)  # the full path reads it otherwise
        if well is not None:
            wells.add(canonical_code(str(well)))
    return wells


class _WellCode(msgspec.Struct):
    well_code: int | float | str | None = None


_well_code_of: Final = msgspec.json.Decoder(_WellCode).decode
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1


def _well_code_as_read(value: bytes) -> int | float | str | None:
    """The well code as the full path reads the message (byte-order mark, Latin-1,
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
    return Rejection(message.key, letter, message.correlation_id)
