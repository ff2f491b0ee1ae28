"""Files of records (uploads, backfills): CSV, JSON or NDJSON, optionally gzip, read in
chunks and turned into batches of parsed items with bounded memory.

Text is UTF-8 (with or without a BOM) until a byte proves otherwise; from there on it is
read as Latin-1, the other encoding regulator and spreadsheet exports use. CSV columns
are matched by raw-record field names; dotted headers (``volumes.oil.value``) nest.
"""

import codecs
import gzip
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

import orjson

from ingestor.csvrows import csv_items
from ingestor.jsonarray import JsonParser
from ingestor.limits import Limits
from ingestor.parsing import BOM, Item, NdjsonParser

Format = Literal["csv", "json", "ndjson"]
CHUNK = 1024 * 1024
# The existing API's import files wrap the records: {"meta": ..., "data": [...]}.
_WRAPPED = re.compile(rb'^\s*\{.*?"(?:data|records|items|results|production)"\s*:\s*(?=\[)', re.S)


class FallbackDecoder:
    """Incremental UTF-8 decoding that switches to Latin-1 at the first invalid byte, or
    the ``declared`` encoding alone (undecodable bytes replaced)."""

    def __init__(self, declared: str | None = None) -> None:
        self.encoding = codecs.lookup(declared).name if declared else "utf-8"
        self._declared = (
            codecs.getincrementaldecoder(declared)(errors="replace") if declared else None
        )
        self._tail = b""
        self._first = True

    def decode(self, chunk: bytes, *, final: bool = False) -> str:
        if self._declared is not None:
            return self._declared.decode(chunk, final)
        data = self._tail + chunk
        self._tail = b""
        if self._first and (data or final):
            if len(data) < 3 and BOM.startswith(data) and not final:
                self._tail = data
                return ""
            self._first = False
            if data.startswith(BOM):
                self.encoding, data = "utf-8-sig", data[3:]
        if self.encoding == "latin-1":
            return data.decode("latin-1")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            if not final and exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
                self._tail = data[exc.start :]
                return data[: exc.start].decode("utf-8")
            self.encoding = "latin-1"
            return data[: exc.start].decode("utf-8") + data[exc.start :].decode("latin-1")


def text_chunks(chunks: Iterable[bytes], decoder: FallbackDecoder) -> Iterator[str]:
    for chunk in chunks:
        if text := decoder.decode(chunk):
            yield text
    if text := decoder.decode(b"", final=True):
        yield text


def batched_items(items: Iterable[Item], size: int = 2000) -> Iterator[list[Item]]:
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def json_batches(
    chunks: Iterable[bytes], fmt: Format, decoder: FallbackDecoder, limits: Limits
) -> Iterator[list[Item]]:
    """JSON or NDJSON, transcoded to UTF-8 when the file turns out to be Latin-1."""
    parser = NdjsonParser(limits) if fmt == "ndjson" else JsonParser(limits)
    head = fmt == "json"
    for text in text_chunks(chunks, decoder):
        data = text.encode("utf-8")
        if head:
            head = False
            if match := _WRAPPED.match(data[:65536]):
                data = data[match.end() :]
        if items := parser.feed(data):
            yield items
    if items := parser.close():
        yield items


def detect_format(name: str, content_type: str, head: bytes) -> Format:
    """From the file name, then the declared type, then the first bytes."""
    lowered = name.lower().removesuffix(".gz")
    content_type = content_type.lower()
    if lowered.endswith(".csv") or "csv" in content_type:
        return "csv"
    if (
        lowered.endswith((".ndjson", ".jsonl"))
        or "ndjson" in content_type
        or "jsonl" in content_type
    ):
        return "ndjson"
    if lowered.endswith(".json") or "json" in content_type:
        return "json"
    return _sniff_format(head)


def _sniff_format(head: bytes) -> Format:
    """From the first bytes: an array is JSON, one object a line NDJSON, else CSV."""
    start = head.removeprefix(BOM).lstrip()
    if start[:1] == b"[":
        return "json"
    if start[:1] != b"{":
        return "csv"
    try:
        orjson.loads(start.split(b"\n", 1)[0])
    except orjson.JSONDecodeError:
        return "json"  # one object spread over lines: pretty-printed or wrapped
    return "ndjson"


@dataclass
class Progress:
    """Bytes of the (possibly compressed) file read so far."""

    bytes_read: int = 0


def _maybe_gunzip(raw: IO[bytes]) -> IO[bytes]:
    gzipped = raw.read(2) == b"\x1f\x8b"
    raw.seek(0)
    return gzip.GzipFile(fileobj=raw) if gzipped else raw  # type: ignore[return-value]


def file_chunks(path: Path, progress: Progress) -> Iterator[bytes]:
    with path.open("rb") as raw:
        stream = _maybe_gunzip(raw)
        while chunk := stream.read(CHUNK):
            progress.bytes_read = raw.tell()
            yield chunk


def file_batches(
    path: Path,
    fmt: Format,
    *,
    limits: Limits,
    progress: Progress | None = None,
    decoder: FallbackDecoder | None = None,
) -> Iterator[list[Item]]:
    chunks = file_chunks(path, progress or Progress())
    decoder = decoder or FallbackDecoder()
    if fmt == "csv":
        return batched_items(csv_items(text_chunks(chunks, decoder), limits))
    return json_batches(chunks, fmt, decoder, limits)


def head_of(path: Path, size: int = 4096) -> bytes:
    with path.open("rb") as raw:
        return _maybe_gunzip(raw).read(size)
