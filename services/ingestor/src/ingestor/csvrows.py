"""CSV rows as records: columns named by raw-record field names, dotted headers
(``volumes.oil.value``) nested. Lines are cut from the text in linear time and a row is
never held past the record limit: one that passes it is rejected and skipped."""

import csv
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from ingestor.limits import Limits, exceeded, too_large
from ingestor.parsing import Item, classify, unparseable

_DELIMITERS = ",;\t|"


class RowTooLong(Exception):
    """The current row passed the record limit (its last line was skipped to its end)."""


class CappedLines:
    """Lines with their ends kept (what ``csv.reader`` wants); only ``\\n`` ends a line,
    so other Unicode line breaks inside fields stay in them. When the lines read since
    ``new_row`` pass ``limit`` characters, the row is skipped (to the end of its line,
    and on while a quoted field is open) and ``RowTooLong`` raised: ``csv.reader``
    starts afresh at the next row."""

    def __init__(self, texts: Iterable[str], limit: int) -> None:
        self._texts = iter(texts)
        self._limit = limit
        self._text, self._pos = "", 0
        self._again: str | None = None
        self.line = 0  # physical lines read
        self._size = 0
        self._odd = False  # an odd count of quotes so far: inside a quoted field

    def __iter__(self) -> "CappedLines":
        return self

    def unread(self, line: str) -> None:
        self._again = line

    def new_row(self) -> None:
        self._size, self._odd = 0, False

    def abandon_row(self) -> None:
        """Skip the rest of a row ``csv.reader`` gave up inside a quoted field."""
        if self._odd:
            self._skip_row()

    def __next__(self) -> str:
        if self._again is not None:
            line, self._again = self._again, None
            return line
        pieces: list[str] = []
        while (end := self._text.find("\n", self._pos)) < 0:
            self._piece(len(self._text), pieces)
            if self._size > self._limit:
                self._skip_row()
                raise RowTooLong
            if not self._next_text():
                if not any(pieces):
                    raise StopIteration
                self.line += 1
                return "".join(pieces)
        self._piece(end + 1, pieces)
        self.line += 1
        if self._size > self._limit:
            if self._odd:
                self._skip_row()
            raise RowTooLong
        return "".join(pieces)

    def _piece(self, stop: int, pieces: list[str]) -> None:
        piece = self._text[self._pos : stop]
        self._pos = stop
        self._size += len(piece)
        self._odd ^= bool(piece.count('"') & 1)
        pieces.append(piece)

    def _next_text(self) -> bool:
        text = next(self._texts, None)
        self._text, self._pos = text or "", 0
        return text is not None

    def _skip_row(self) -> None:
        while True:
            end = self._text.find("\n", self._pos)
            stop = len(self._text) if end < 0 else end + 1
            self._odd ^= bool(self._text.count('"', self._pos, stop) & 1)
            self._pos = stop
            if end >= 0:
                self.line += 1
                if not self._odd:
                    return
            elif not self._next_text():
                return


def header_problem(header: list[str], limits: Limits) -> str | None:
    """Why a header cannot name a record's fields: too many, too deep, or a column
    that is also the parent of another (``a`` and ``a.b``)."""
    if len(header) > limits.fields:
        return f"more than {limits.fields} columns"
    names = set(header)
    for name in header:
        parts = name.split(".")
        if len(parts) > limits.depth:
            return f"column {name[:80]!r} is nested deeper than {limits.depth} levels"
        for end in range(1, len(parts)):
            if (parent := ".".join(parts[:end])) in names:
                return f"column {name[:80]!r} is inside column {parent[:80]!r}"
    return None


def _nest(header: list[str], row: list[str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for name, value in zip(header, row, strict=True):
        if value == "":  # an empty cell is "not measured", never zero
            continue
        *path, leaf = name.split(".")
        target = record
        for step in path:
            target = target.setdefault(step, {})
        target[leaf] = value
    return record


def _row_item(
    header: list[str], row: list[str], line: int, delimiter: str, limits: Limits
) -> Item | None:
    if not any(cell.strip() for cell in row):
        return None
    if len(row) != len(header):
        raw = delimiter.join(row).encode()[: limits.record_bytes]
        return unparseable(line, raw, f"expected {len(header)} columns, found {len(row)}")
    record = _nest(header, row)
    return classify(line, orjson.dumps(record), record, limits)


def csv_items(texts: Iterable[str], limits: Limits) -> Iterator[Item]:
    """One item per data row; ``line`` is the row's last physical line in the file."""
    stream = CappedLines(texts, limits.record_bytes)
    try:
        first = next(stream, "")
    except RowTooLong:
        yield Item(1, b"", errors=[too_large(limits)])
        return
    stream.unread(first)
    delimiter = max(_DELIMITERS, key=first.count)
    reader = csv.reader(stream, delimiter=delimiter)
    header = [name.strip() for name in next(reader, [])]
    if problem := header_problem(header, limits):
        yield Item(1, first[:1000].encode(), errors=[exceeded(f"the header row has {problem}")])
        return
    while True:
        stream.new_row()
        try:
            row = next(reader)
        except StopIteration:
            return
        except RowTooLong:
            yield Item(stream.line, b"", errors=[too_large(limits)])
            continue
        except csv.Error as exc:  # e.g. a field over the csv module's size limit
            stream.abandon_row()
            yield unparseable(stream.line, b"", f"unreadable CSV row: {exc}")
            continue
        if (item := _row_item(header, row, stream.line, delimiter, limits)) is not None:
            yield item
