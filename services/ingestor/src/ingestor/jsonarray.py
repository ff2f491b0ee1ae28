"""The push parser for a JSON array of records (or whitespace-separated JSON values).

Elements are framed and decoded by the standard library's C decoder; an element cut by
the chunking is decoded again only once its buffered bytes have doubled, so a record
arriving in many small chunks costs linear time, not quadratic. An element over the
record limit is rejected and skipped by a scanner that only follows strings and
brackets, so the elements after it are still read.
"""

import json
import math
import re

from contracts import ErrorDetail
from ingestor.limits import NOT_A_NUMBER, OUT_OF_RANGE, Limits, exceeded, too_large
from ingestor.parsing import BOM, Item, classify, unparseable

_WS = re.compile(r"[ \t\n\r]*")
_OUTSIDE = re.compile(r'["\[\]{}]')
_INSIDE = re.compile(r'["\\]')


def _skip_ws(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match else pos


class Skipper:
    """Finds where a JSON string, object or array ends without decoding it, across
    chunks: it only follows strings, escapes and brackets."""

    def __init__(self) -> None:
        self.depth = 0
        self.in_string = False
        self.escaped = False

    def scan(self, text: str, pos: int) -> int | None:
        """The index just past the value's end in ``text``, or None: it goes on."""
        while True:
            if self.escaped:
                if pos >= len(text):
                    return None
                pos, self.escaped = pos + 1, False
            match = (_INSIDE if self.in_string else _OUTSIDE).search(text, pos)
            if match is None:
                return None
            pos, char = match.end(), match.group()
            if char == "\\":
                self.escaped = True
            elif char == '"':
                self.in_string = not self.in_string
                if not self.in_string and self.depth == 0:
                    return pos
            elif char in "[{":
                self.depth += 1
            else:
                self.depth -= 1
                if self.depth <= 0:
                    return pos


class JsonParser:
    """A JSON array of records, or whitespace-separated JSON values (one object alone
    included), in UTF-8. A syntax or encoding error inside the array ends the parse:
    without framing the rest cannot be split into records, so it becomes one rejected
    item (its first ``record_bytes``) and the remaining input is ignored."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._max = limits.record_bytes
        # NDJSON's decoder (orjson) refuses NaN, Infinity and numbers beyond a double,
        # and turns integers beyond 64 bits into floats: these hooks do the same.
        self._decoder = json.JSONDecoder(
            parse_constant=self._constant, parse_float=self._float, parse_int=self._int
        )
        self._problem: str | None = None
        self._tail = b""  # undecoded bytes: a multi-byte character cut by the chunking
        self._buf = ""
        self._pos = 0
        self._array: bool | None = None  # unknown until the first non-blank character
        self._expect_value = True
        self._done = False
        self._count = 0
        self._retry_size = 0  # an incomplete element is decoded again from this size
        self._skipper: Skipper | None = None  # inside an element too long to keep

    def _constant(self, _: str) -> None:
        self._problem = NOT_A_NUMBER

    def _float(self, text: str) -> float:
        value = float(text)
        if math.isinf(value):
            self._problem = OUT_OF_RANGE
        return value

    def _int(self, text: str) -> int | float:
        if len(text) <= 20:
            value = int(text)
            if -(2**63) <= value < 2**64:
                return value
        return self._float(text)

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
            self._retry_size = 0  # what came before the bad bytes is all there will be
            items += self._scan(final=False)
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
        if not self._skip_past():
            return items
        while not self._done:
            pos = _skip_ws(self._buf, self._pos)
            self._pos = pos
            if pos >= len(self._buf):
                break
            if self._structure(pos, items):
                continue
            if not final and len(self._buf) - pos < self._retry_size:
                break  # not enough new input yet to decode the element again
            item = self._value(pos, final=final)
            if item is not None:
                items.append(item)
            if item is None or self._skipper is not None:
                break
        return items

    def _structure(self, pos: int, items: list[Item]) -> bool:
        """Take the array's own character at ``pos`` ('[', ',', ']'); False at a value."""
        char = self._buf[pos]
        if self._array is None:
            self._array = char == "["
            if self._array:
                self._pos = pos + 1
                return True
        if self._array and not self._expect_value:
            if char not in ",]":
                items.append(self._give_up(pos, f"expected ',' or ']', found {char!r}"))
                return True
            self._done = char == "]"
            self._expect_value = char == ","
            self._pos = pos + 1
            return True
        if self._array and char == "]" and self._count == 0:
            self._done, self._pos = True, pos + 1
            return True
        return False

    def _skip_past(self) -> bool:
        """Skip what is left of an element too long to keep; False while it goes on."""
        if self._skipper is None:
            return True
        end = self._skipper.scan(self._buf, self._pos)
        if end is None:
            self._buf, self._pos = "", 0
            return False
        self._skipper, self._pos, self._expect_value = None, end, False
        return True

    def _value(self, pos: int, *, final: bool) -> Item | None:
        """Decode the value at ``pos``, or None when more input is needed."""
        self._problem = None
        try:
            value, end = self._decoder.raw_decode(self._buf, pos)
        except json.JSONDecodeError as exc:
            # An error close to the end of the buffer may just be a value cut by the
            # chunking; an unterminated string reports where the string starts.
            near_end = exc.pos + 16 >= len(self._buf)
            if not final and (near_end or exc.msg.startswith("Unterminated string")):
                return self._wait(pos)
            return self._give_up(pos, f"{exc.msg} (element {self._count + 1})")
        except RecursionError:
            return self._skip(pos, exceeded(f"nested deeper than {self._limits.depth} levels"))
        if end >= len(self._buf) and not final:
            return self._wait(pos)  # a number may continue in the next chunk
        self._count += 1
        self._pos, self._retry_size, self._expect_value = end, 0, False
        raw = self._buf[pos:end].encode("utf-8")
        if self._problem is not None:
            return unparseable(self._count, raw[: self._max], self._problem)
        return classify(self._count, raw, value, self._limits)

    def _wait(self, pos: int) -> Item | None:
        """Keep an incomplete element for the next chunk; reject it (and skip the rest
        of it) once it is longer than a record may be."""
        self._pos = pos
        size = len(self._buf) - pos
        if size <= self._max:
            self._retry_size = 2 * size
            return None
        if self._buf[pos] not in '"[{':
            return self._give_up(pos, f"a value longer than {self._max} bytes")
        return self._skip(pos, too_large(self._limits))

    def _skip(self, pos: int, error: ErrorDetail) -> Item:
        """Reject the element at ``pos`` and skip it, now and in the chunks to come."""
        self._count += 1
        self._pos, self._retry_size = pos, 0
        raw = self._buf[pos : pos + self._max].encode("utf-8")[: self._max]
        self._skipper = Skipper()
        self._skip_past()
        return Item(self._count, raw, errors=[error])

    def _give_up(self, pos: int, reason: str) -> Item:
        self._done = True
        self._count += 1
        rest = self._buf[pos : pos + self._max].encode("utf-8") + self._tail
        self._buf, self._pos, self._tail = "", 0, b""
        return unparseable(self._count, rest[: self._max], reason)
