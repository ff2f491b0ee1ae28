"""Parsed items, and the push parser for NDJSON (``jsonarray`` has the JSON one).

Each parser is fed the body chunk by chunk and returns the items completed so far, so
a body of any size is parsed with memory bounded by the largest record. Items carry
the record's original bytes (published verbatim) and its 1-based line: the physical
line for NDJSON, the element's position for a JSON array.
"""

from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import orjson

from contracts import ErrorCode, ErrorDetail
from ingestor.limits import NOT_A_NUMBER, OUT_OF_RANGE, Limits, exceeded, too_large, violation

BOM = b"\xef\xbb\xbf"
_WS_BYTES = b" \t\r\n"


#: A record that names no organisation (``Item.named``).
UNNAMED: Final = None


@dataclass(slots=True)
class Item:
    """One record of a body: accepted when ``key`` is set, else rejected with ``errors``.
    ``named`` is the ``organisation`` an accepted record names, as sent (``UNNAMED``:
    absent, null or blank)."""

    line: int
    raw: bytes
    key: str | None = None
    errors: list[ErrorDetail] = field(default_factory=list)
    named: Any = UNNAMED
    #: The field is there, null or blank: the record is written again to name its owner.
    blank_owner: bool = False


def owned(item: Item, organisation: str) -> Item:
    """``item`` as a record of ``organisation``, the poster's: its raw record names that
    owner (added when it names none), or, naming another one, it is refused."""
    if item.key is None:
        return item
    if item.named is UNNAMED:
        return Item(item.line, _stamped(item, organisation), item.key, named=organisation)
    if item.named == organisation:
        return item
    error = ErrorDetail(
        field="organisation",
        code=ErrorCode.ORGANISATION_MISMATCH,
        message=f"the record names organisation {str(item.named)[:128]!r}; "
        f"this key posts for {organisation!r}",
    )
    return Item(item.line, item.raw, errors=[error])


def _stamped(item: Item, organisation: str) -> bytes:
    """The record's bytes naming ``organisation``: appended before the closing brace when
    the field is absent (the bytes otherwise as sent), else the object written again."""
    owner = orjson.dumps(organisation)
    if not item.blank_owner:
        return b'%b,"organisation":%b}' % (item.raw.rstrip(_WS_BYTES)[:-1], owner)
    value = orjson.loads(item.raw)
    value["organisation"] = organisation
    return orjson.dumps(value)


class Parser(Protocol):
    def feed(self, chunk: bytes) -> list[Item]: ...

    def close(self) -> list[Item]: ...


def well_key(value: Any) -> str | None:
    """The Kafka key for a well code: integers as decimal text, non-blank strings
    stripped; anything else has no usable key."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def classify(line: int, raw: bytes, value: Any, limits: Limits) -> Item:
    """An item for a decoded record: rejected over a limit, without an object or a
    usable well code; else accepted, keyed by its well code."""
    if (problem := violation(raw, value, limits)) is not None:
        return Item(line, raw, errors=[problem])
    if not isinstance(value, dict):
        kind = type(value).__name__
        error = ErrorDetail(code=ErrorCode.NOT_AN_OBJECT, message=f"expected an object, got {kind}")
        return Item(line, raw, errors=[error])
    key = well_key(value.get("well_code"))
    if key is not None:
        named = value.get("organisation")
        blank = "organisation" in value and named in (None, "")
        return Item(line, raw, key, named=UNNAMED if blank else named, blank_owner=blank)
    if value.get("well_code") in (None, ""):
        error = ErrorDetail(
            field="well_code", code=ErrorCode.MISSING_FIELD, message="well_code is required"
        )
    else:
        error = ErrorDetail(
            field="well_code",
            code=ErrorCode.INVALID_VALUE,
            message="well_code must be an integer or a non-empty string",
        )
    return Item(line, raw, errors=[error])


def unparseable(line: int, raw: bytes, reason: str) -> Item:
    error = ErrorDetail(code=ErrorCode.UNPARSEABLE_JSON, message=reason[:300])
    return Item(line, raw, errors=[error])


def decoded(line: int, raw: bytes, limits: Limits) -> Item:
    """The item for one record's JSON bytes, decoded by orjson."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Item(line, raw, errors=[json_error(raw, exc, limits)])
    return classify(line, raw, value, limits)


def json_error(raw: bytes, exc: orjson.JSONDecodeError, limits: Limits) -> ErrorDetail:
    """orjson's error, with the reasons every path gives for what it refuses alike."""
    if raw[exc.pos : exc.pos + 9].lstrip(b"-").startswith((b"NaN", b"Infinity")):
        return ErrorDetail(code=ErrorCode.UNPARSEABLE_JSON, message=NOT_A_NUMBER)
    if "infinity" in exc.msg:
        return ErrorDetail(code=ErrorCode.UNPARSEABLE_JSON, message=OUT_OF_RANGE)
    if "depth" in exc.msg:
        return exceeded(f"nested deeper than {limits.depth} levels")
    return ErrorDetail(code=ErrorCode.UNPARSEABLE_JSON, message=str(exc)[:300])


class NdjsonParser:
    """One JSON object per line; blank lines are skipped, CRLF and a BOM tolerated. A
    line over the record limit is rejected as soon as it passes it and skipped to its
    end, never held whole."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._max = limits.record_bytes
        self._pieces: list[bytes] = []  # the line so far, without its end
        self._size = 0
        self._line = 0
        self._skipping = False  # inside an over-long line, waiting for its end

    def feed(self, chunk: bytes) -> list[Item]:
        items: list[Item] = []
        if b"\n" not in chunk:
            self._hold(chunk, items)
            return items
        lines = chunk.split(b"\n")
        rest = lines.pop()
        lines[0] = self._take(lines[0])
        for raw in lines:
            self._line += 1
            if self._skipping:  # the end of an over-long line, already rejected
                self._skipping = False
                continue
            self._parse(raw, items)
        self._hold(rest, items)
        return items

    def close(self) -> list[Item]:
        items: list[Item] = []
        raw = self._take(b"")
        if raw and not self._skipping:
            self._line += 1
            self._parse(raw, items)
        return items

    def _take(self, head: bytes) -> bytes:
        pieces, self._pieces, self._size = self._pieces, [], 0
        return b"".join([*pieces, head]) if pieces else head

    def _hold(self, data: bytes, items: list[Item]) -> None:
        if self._skipping or not data:
            return
        self._pieces.append(data)
        self._size += len(data)
        if self._size > self._max:
            head = self._take(b"")[: self._max]
            items.append(Item(self._line + 1, head, errors=[too_large(self._limits)]))
            self._skipping = True

    def _parse(self, raw: bytes, items: list[Item]) -> None:
        if self._line == 1:
            raw = raw.removeprefix(BOM)
        raw = raw.strip(_WS_BYTES)
        if not raw:
            return
        if len(raw) > self._max:
            items.append(Item(self._line, raw[: self._max], errors=[too_large(self._limits)]))
            return
        items.append(decoded(self._line, raw, self._limits))
