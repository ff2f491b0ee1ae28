"""The clean path: a record with nothing to explain, from its JSON bytes to its record.

Almost every record is clean: plain JSON shapes, a valid period, rates within limits,
nothing to flag but a padded identifier or an unknown well. msgspec reads it in C into
``Raw``, a struct made from ``contracts.RawRecord``'s own fields; the record then takes
the steps the explaining path takes (``canonical``: the same rules, units, periods,
identifiers, enrichment, derived values, identity and version), and asks what depends
only on a well or a period once. The first finding of its own makes it give up, and so
does anything msgspec cannot vouch for: the explaining path (``explain``) then decides
and says why. Wherever it answers, its record is the explaining path's, byte for byte
(``tests/unit/validator/test_clean.py``).
"""

import sys
from collections.abc import Mapping
from math import isfinite
from operator import attrgetter
from typing import Annotated, Any, Final, Literal

import msgspec
import orjson
from annotated_types import Ge
from pydantic import ConfigDict, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from contracts import RawRecord, VolumeIn
from contracts.records import CanonicalRecord, Number
from validator.canonical import (
    STREAMS,
    Audit,
    Clock,
    Measured,
    Sent,
    assemble,
    dated,
    identity,
    measure,
)
from validator.enrich import WellRef, enrich
from validator.messages import RawMessage
from validator.normalize import Period
from validator.parse import KNOWN
from validator.rules import Findings, Policy, check_producing_time, check_revision, check_totals


class NotClean(Exception):
    """The record needs the explaining path."""


def _msgspec_type(info: FieldInfo, types: Mapping[Any, Any]) -> Any:
    """What msgspec reads for a field of pydantic type ``info``, its lower bound kept."""
    kind = types[info.annotation]
    for bound in info.metadata:
        if isinstance(bound, Ge):
            kind = Annotated[kind, msgspec.Meta(ge=bound.ge)]  # type: ignore[call-overload]
    return kind


def _struct(name: str, model: Any, types: Mapping[Any, Any], **options: Any) -> Any:
    """A msgspec struct of ``model``'s fields (a pydantic model), typed by ``types``."""
    fields = [
        (field, _msgspec_type(info, types))
        if info.is_required()
        else (field, _msgspec_type(info, types), info.default)
        for field, info in model.model_fields.items()
    ]
    return msgspec.defstruct(name, fields, kw_only=True, gc=False, **options)


#: A volume as JSON sends it plainly; a numeric string is left to pydantic.
_Volume: Final = _struct("Volume", VolumeIn, {Number: float | None, str: str})
_Streams = Literal[tuple(name for _, name, _, _ in STREAMS)]  # type: ignore[valid-type]
#: What msgspec reads of each type of ``RawRecord`` field: JSON integers where text goes
#: (pydantic's ``coerce_numbers_to_str``), numeric strings where numbers go (read with
#: pydantic's rules, ``_number``), volumes of known streams only.
_TYPES: Final[dict[Any, Any]] = {
    str: int | str,
    str | None: int | str | None,
    Number: float | str | None,
    int: int,
    RawRecord.model_fields["volumes"].annotation: dict[_Streams, _Volume | None] | None,  # type: ignore[valid-type]
}
#: A raw record in the shapes msgspec reads; unknown fields are read the long way.
Raw: Final = _struct("Raw", RawRecord, _TYPES, forbid_unknown_fields=True)
_decode: Final = msgspec.json.Decoder(Raw).decode
_float: Final = TypeAdapter(Number).validate_python
_text: Final = TypeAdapter(str, config=ConfigDict(coerce_numbers_to_str=True)).validate_python
_sent_of: Final = attrgetter(*Sent._fields)
_rates_of: Final = attrgetter(*(rate_field for _, _, rate_field, _ in STREAMS))
_INT64: Final = range(-(2**63), 2**63)
_OFF: Final = object()
"""Enrichment is off."""
#: (reference data, severities, the well part of a record, its flags) of each well as
#: sent, kept across batches, where wells repeat; about 2 KB an entry, cleared when it
#: holds ``_SEEN_LIMIT`` entries or about ``SEEN_BYTES_LIMIT`` bytes. Only codes and names
#: ``rules.check_code``/``check_name`` allow get in, so an entry holds a few KB at most.
_SEEN: Final[dict[tuple[Any, ...], tuple[object, object, CanonicalRecord, list[str]]]] = {}
_SEEN_LIMIT: Final = 32_768
SEEN_BYTES_LIMIT: Final = 64 * 1024 * 1024
#: What an entry costs besides its texts: the record struct, tuples, dict slot.
_SEEN_ENTRY_BYTES: Final = 1_500
_seen_bytes = [0]


class CleanPath:
    """The clean path for one batch: its policy, clock and reference data (canonical well
    codes to their data, None: enrichment off), with the periods it has met."""

    __slots__ = ("_clock", "_findings", "_periods", "_policy", "_reference", "_severities")

    def __init__(
        self, policy: Policy, clock: Clock, reference: Mapping[str, WellRef | None] | None
    ) -> None:
        self._policy = policy
        self._severities = policy.severities
        self._clock = clock
        self._reference = reference
        self._periods: dict[Any, Period] = {}
        #: What the checks of a record found; empty until a record is not clean.
        self._findings = Findings(policy)

    def record(self, message: RawMessage) -> CanonicalRecord | None:
        """The message's canonical record, or None when the explaining path must decide."""
        try:
            raw, extra = _read(message.value)
            well, flags = self._well(raw)
            text = raw.production_period
            period = self._periods.get(text) or self._period(text)
            measured = self._measured(raw, period.days)
        except NotClean:
            return None
        audit = Audit(raw.revision, [*flags], extra)
        return assemble(well, period, measured, audit, message, self._clock)

    def _measured(self, raw: Any, days: int) -> Measured:
        """The record's numbers, if no rule finds anything to say of them."""
        days_on = raw.days_on_production
        if days_on.__class__ is str:
            days_on = _number(days_on)
        oil, gas, water, liquids = _rates_of(raw)
        if str in (oil.__class__, gas.__class__, water.__class__, liquids.__class__):
            oil, gas, water, liquids = _number(oil), _number(gas), _number(water), _number(liquids)
        policy, out = self._policy, self._findings
        check_producing_time(days_on, days, policy, out)
        measured = measure(days_on, (oil, gas, water, liquids), raw.volumes, days, policy, out)
        check_totals(measured.totals, days_on, out)
        check_revision(raw.revision, out)
        if out.flags or out.errors:
            self._findings = Findings(policy)
            raise NotClean
        return measured

    def _well(self, raw: Any) -> tuple[CanonicalRecord, list[str]]:
        """The well part of the record and its flags, as ``_resolve`` last found them for
        this reference data and policy."""
        key = _sent_of(raw)
        seen = _SEEN.get(key)
        if seen is not None:
            ref, severities, well, flags = seen
            reference = self._reference
            now = _OFF if reference is None else reference.get(well.well_code)
            if ref is now and severities is self._severities:
                return well, flags
        return self._resolve(key)

    def _ref(self, well: str) -> object:
        return _OFF if self._reference is None else self._reference.get(well)

    def _resolve(self, key: tuple[Any, ...]) -> tuple[CanonicalRecord, list[str]]:
        out = Findings(self._policy)
        well = identity(_sent(key), self._policy, out)
        ref = self._ref(well.well_code)
        if ref is not _OFF:
            enrich(well, ref, out)  # type: ignore[arg-type]  # a WellRef or None
        if out.errors:
            raise NotClean
        # The texts are held twice: in the key as sent, in the record (canonical codes).
        size = _SEEN_ENTRY_BYTES + 2 * sum(map(sys.getsizeof, key))
        if len(_SEEN) >= _SEEN_LIMIT or _seen_bytes[0] + size > SEEN_BYTES_LIMIT:
            _SEEN.clear()  # bounded: the wells of a few batches are enough to stay warm
            _seen_bytes[0] = 0
        _SEEN[key] = (ref, self._severities, well, out.flags)
        _seen_bytes[0] += size
        return well, out.flags

    def _period(self, text: Any) -> Period:
        if text.__class__ is not str:
            raise NotClean
        out = Findings(self._policy)
        period, days = dated(text, self._policy, self._clock.today, out)
        if period is None or not days or out.errors or out.flags:
            raise NotClean
        self._periods[text] = period
        return period


def _read(value: bytes) -> tuple[Any, dict[str, Any]]:
    """The raw record and its unknown fields, in the order sent."""
    try:
        return _decode(value), {}
    except msgspec.ValidationError:
        return _read_with_extra(value)
    except (msgspec.DecodeError, UnicodeDecodeError):
        raise NotClean from None


def _read_with_extra(value: bytes) -> tuple[Any, dict[str, Any]]:
    try:
        obj = orjson.loads(value)
    except orjson.JSONDecodeError:
        raise NotClean from None
    if obj.__class__ is not dict:
        raise NotClean
    extra = {key: obj.pop(key) for key in [*obj] if key not in KNOWN}
    if not extra:
        raise NotClean  # msgspec refused something else
    try:
        return msgspec.convert(obj, Raw), extra
    except msgspec.ValidationError:
        raise NotClean from None


def _sent(key: tuple[Any, ...]) -> Sent:
    """The well's codes and names as pydantic reads them: an integer as its text, a data
    source by ``RawRecord``'s own rule. Integers beyond 64 bits are left to pydantic."""
    if any(value.__class__ is int and value not in _INT64 for value in key):
        raise NotClean
    *named, source = (None if value is None else _text(value) for value in key)
    return Sent._make([*named, _text(RawRecord._default_source(source))])


def _number(value: Any) -> float | None:
    """A number as ``RawRecord`` reads it: a string by pydantic (plain decimals, which every
    reader reads alike, by ``float``). One that is not finite is refused there, so it is
    left to the explaining path."""
    if value.__class__ is not str:
        return value  # type: ignore[no-any-return]
    if value.isascii() and value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        number = _float(RawRecord._blank_is_null(value))
    except ValidationError:
        raise NotClean from None
    if number is not None and not isfinite(number):
        raise NotClean
    return number
