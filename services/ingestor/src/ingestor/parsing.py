"""Push parsers for intake bodies: NDJSON and JSON (an array, or concatenated values).

Each parser is fed the body chunk by chunk and returns the items completed so far, so
a body of any size is parsed with memory bounded by the largest record. Items carry
the record's original bytes (published verbatim) and its 1-based line: the physical
line for NDJSON, the element's position for a JSON array.
"""

import json
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from contracts import ErrorCode, ErrorDetail

BOM = b"\xef\xbb\xbf"
_WS = re.compile(r"[ \t\n\r]*")
_WS_BYTES = b" \t\r\n"


@dataclass(slots=True)
class Item:
    """One record of a body: accepted when ``key`` is set, else rejected with ``errors``."""

    line: int
    raw: bytes
    key: str | None = None
    errors: list[ErrorDetail] = field(default_factory=list)


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


def classify(line: int, raw: bytes, value: Any) -> Item:
    if not isinstance(value, dict):
        kind = type(value).__name__
        error = ErrorDetail(code=ErrorCode.NOT_AN_OBJECT, message=f"expected an object, got {kind}")
        return Item(line, raw, errors=[error])
    key = well_key(value.get("well_code"))
    if key is not None:
        return Item(line, raw, key)
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


def _skip_ws(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match else pos


class NdjsonParser:
    """One JSON object per line; blank lines are skipped, CRLF and a BOM tolerated."""

    def __init__(self, max_record_bytes: int) -> None:
        self._max = max_record_bytes
        self._buf = b""
        self._line = 0
        self._skipping = False  # inside an over-long line, waiting for its end

    def feed(self, chunk: bytes) -> list[Item]:
        lines = (self._buf + chunk).split(b"\n")
        self._buf = lines.pop()
        items: list[Item] = []
        for raw in lines:
            self._line += 1
            if self._skipping:  # the end of an over-long line, already rejected
                self._skipping = False
                continue
            self._parse(raw, items)
        if self._skipping:
            self._buf = b""
        elif len(self._buf) > self._max:
            items.append(self._too_long(self._line + 1, self._buf))
            self._buf, self._skipping = b"", True
        return items

    def close(self) -> list[Item]:
        items: list[Item] = []
        if self._buf and not self._skipping:
            self._line += 1
            self._parse(self._buf, items)
        self._buf = b""
        return items

    def _parse(self, raw: bytes, items: list[Item]) -> None:
        if self._line == 1:
            raw = raw.removeprefix(BOM)
        raw = raw.strip(_WS_BYTES)
        if not raw:
            return
        if len(raw) > self._max:
            items.append(self._too_long(self._line, raw))
            return
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            items.append(unparseable(self._line, raw, str(exc)))
            return
        items.append(classify(self._line, raw, value))

    def _too_long(self, line: int, raw: bytes) -> Item:
        reason = f"record longer than {self._max} bytes (truncated)"
        return unparseable(line, raw[: self._max], reason)


class JsonParser:
    """A JSON array of records, or whitespace-separated JSON values (one object alone
    included), in UTF-8. A syntax or encoding error inside the array ends the parse:
    without framing the rest cannot be split into records, so it becomes one rejected
    item (its first ``max_record_bytes``) and the remaining input is ignored."""

    def __init__(self, max_record_bytes: int) -> None:
        self._max = max_record_bytes
        self._decoder = json.JSONDecoder()
        self._tail = b""  # undecoded bytes: a multi-byte character cut by the chunking
        self._buf = ""
        self._pos = 0
        self._array: bool | None = None  # unknown until the first non-blank character
        self._expect_value = True
        self._done = False
        self._count = 0

    def feed(self, chunk: bytes) -> list[Item]:
        if self._done:
            return []
        data = self._tail + chunk
        if self._array is None and not self._buf:
            data = data.removeprefix(BOM)
        bad = False
        try:
            text, self._tail = data.decode("utf-8"), b""
        except UnicodeDecodeError as exc:
            bad = exc.start < len(data) - 3  # else a character continues in the next chunk
            text, self._tail = data[: exc.start].decode("utf-8"), data[exc.start :]
        self._buf = self._buf[self._pos :] + text
        self._pos = 0
        items = self._scan(final=False)
        if bad and not self._done:
            items.append(self._give_up(self._pos, "the body is not UTF-8"))
        return items

    def close(self) -> list[Item]:
        if self._done:
            return []
        if self._tail:
            return [self._give_up(self._pos, "the body is not UTF-8")]
        items = self._scan(final=True)
        if self._array and not self._done:
            items.append(self._give_up(self._pos, "the body ended inside the JSON array"))
        return items

    def _scan(self, *, final: bool) -> list[Item]:
        items: list[Item] = []
        while not self._done:
            pos = _skip_ws(self._buf, self._pos)
            if pos >= len(self._buf):
                self._pos = pos
                break
            char = self._buf[pos]
            if self._array is None:
                self._array = char == "["
                if self._array:
                    self._pos = pos + 1
                    continue
            if self._array and not self._expect_value:
                if char not in ",]":
                    items.append(self._give_up(pos, f"expected ',' or ']', found {char!r}"))
                    break
                self._done = char == "]"
                self._expect_value = char == ","
                self._pos = pos + 1
                continue
            if self._array and char == "]" and self._count == 0:
                self._done, self._pos = True, pos + 1
                continue
            item = self._value(pos, final=final)
            if item is None:
                break
            items.append(item)
        return items

    def _value(self, pos: int, *, final: bool) -> Item | None:
        """Decode the value at ``pos``, or None when more input is needed."""
        try:
            value, end = self._decoder.raw_decode(self._buf, pos)
        except json.JSONDecodeError as exc:
            # An error close to the end of the buffer may just be a value cut by the
            # chunking; an unterminated string reports where the string starts.
            near_end = exc.pos + 16 >= len(self._buf)
            incomplete = near_end or exc.msg.startswith("Unterminated string")
            if not final and incomplete and len(self._buf) - pos <= self._max:
                self._pos = pos
                return None
            return self._give_up(pos, f"{exc.msg} (element {self._count + 1})")
        if end >= len(self._buf) and not final:
            self._pos = pos  # a number may continue in the next chunk
            return None
        self._count += 1
        self._pos = end
        self._expect_value = False
        raw = self._buf[pos:end].encode("utf-8")
        if len(raw) > self._max:
            return unparseable(self._count, raw[: self._max], "record too long (truncated)")
        return classify(self._count, raw, value)

    def _give_up(self, pos: int, reason: str) -> Item:
        self._done = True
        self._count += 1
        rest = self._buf[pos : pos + self._max].encode("utf-8") + self._tail
        self._buf, self._pos, self._tail = "", 0, b""
        return unparseable(self._count, rest[: self._max], reason)


class SniffingParser:
    """Chooses JSON (a body opening with '[') or NDJSON from the first non-blank byte."""

    def __init__(self, max_record_bytes: int) -> None:
        self._max = max_record_bytes
        self._head = b""
        self._inner: Parser | None = None

    def feed(self, chunk: bytes) -> list[Item]:
        if self._inner is None:
            self._head += chunk
            start = self._head.removeprefix(BOM).lstrip(_WS_BYTES)
            if not start:
                return []
            self._inner = (JsonParser if start[:1] == b"[" else NdjsonParser)(self._max)
            chunk, self._head = self._head, b""
        return self._inner.feed(chunk)

    def close(self) -> list[Item]:
        return self._inner.close() if self._inner is not None else []


_NDJSON_TYPES = {"application/x-ndjson", "application/ndjson", "application/jsonl"}
_JSON_TYPES = {"application/json", "text/json"}
# curl's --data-binary sends a form type unless told otherwise: sniff it like no type.
_SNIFFED_TYPES = {"", "text/plain", "application/octet-stream", "application/x-www-form-urlencoded"}


def parser_for(content_type: str | None, max_record_bytes: int) -> Parser | None:
    """The parser for a Content-Type, or None when the type is not one we read."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in _NDJSON_TYPES:
        return NdjsonParser(max_record_bytes)
    if media in _JSON_TYPES:
        return JsonParser(max_record_bytes)
    if media in _SNIFFED_TYPES:
        return SniffingParser(max_record_bytes)
    return None
