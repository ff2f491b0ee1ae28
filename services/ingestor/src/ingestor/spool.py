"""Uploaded files spooled to disk as they arrive: a multipart body is parsed as a stream
(python-multipart) and its ``file`` part written out, never held in memory; a plain
(non-multipart) body is taken as the file itself. Other parts are few and small (413
beyond the limits); a malformed body answers 400."""

import contextlib
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from ingestor.streams import request_body
from runtime.errors import ApiError

log = logging.getLogger(__name__)

#: Spooled files are named so; the start-up removes those a crash left behind.
PREFIX = "wellstream-upload-"


@dataclass(frozen=True)
class SpoolLimits:
    file_bytes: int
    parts: int = 8
    part_bytes: int = 4096  # a part other than the file, its headers included


def clean(directory: Path) -> int:
    """Remove the spooled files of a process that stopped before it could (a replica's
    spool directory is its own): at start-up none of them is in use."""
    removed = 0
    for path in directory.glob(f"{PREFIX}*"):
        with contextlib.suppress(OSError):
            path.unlink()
            removed += 1
    if removed:
        log.warning("removed %d spooled upload(s) left by an earlier run", removed)
    return removed


@dataclass
class Received:
    path: Path
    filename: str = ""
    content_type: str = ""
    size: int = 0
    fields: dict[str, str] = field(default_factory=dict)


class _FormReader:
    """Callbacks for python-multipart: the ``file`` part goes to disk, small fields are
    kept, anything else is skipped."""

    def __init__(self, sink: Any, received: Received, limits: SpoolLimits) -> None:
        self.sink, self.received, self.limits = sink, received, limits
        self._parts = 0
        self._part_size = 0
        self._header, self._value = b"", b""
        self._headers: dict[bytes, bytes] = {}
        self._name: str | None = None
        self._is_file = False
        self._field = bytearray()

    def callbacks(self) -> Any:  # python-multipart's MultipartCallbacks
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_part_end": self._part_end,
        }

    def _grow(self, size: int) -> None:
        self._part_size += size
        if self._part_size > self.limits.part_bytes and not self._is_file:
            limit = self.limits.part_bytes
            raise ApiError(
                413, f"a form field is larger than {limit} bytes", details={"limit_bytes": limit}
            )

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._grow(end - start)
        self._header += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._grow(end - start)
        self._value += data[start:end]

    def _part_begin(self) -> None:
        self._parts += 1
        if self._parts > self.limits.parts:
            limit = self.limits.parts
            raise ApiError(413, f"more than {limit} form fields", details={"limit": limit})
        self._headers, self._name, self._is_file, self._field = {}, None, False, bytearray()
        self._part_size = 0

    def _header_end(self) -> None:
        self._headers[self._header.lower()] = self._value
        self._header, self._value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if self._name == "file" and not self._is_file and not self.received.filename:
            self._is_file = True
            self.received.filename = options.get(b"filename", b"upload").decode("utf-8", "replace")
            self.received.content_type = self._headers.get(b"content-type", b"").decode("latin-1")

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._is_file:
            self.sink.write(data[start:end])
            self.received.size += end - start
        else:
            self._grow(end - start)
            self._field += data[start:end]

    def _part_end(self) -> None:
        if self._name and not self._is_file:
            self.received.fields[self._name] = self._field.decode("utf-8", "replace")
        self._is_file = False


async def receive(
    request: Request, directory: Path, limits: SpoolLimits, account: Callable[[int], None]
) -> Received:
    """Spool the uploaded file to ``directory``, each chunk passed to ``account`` first
    (a quota may refuse it); 413 beyond the limits, 400 without a file."""
    media, options = parse_options_header(request.headers.get("content-type", ""))
    fd, name = tempfile.mkstemp(prefix=PREFIX, dir=directory)
    received = Received(Path(name))
    try:
        with os.fdopen(fd, "wb") as sink:
            if media == b"multipart/form-data":
                await _multipart(
                    request, options.get(b"boundary", b""), sink, received, limits, account
                )
            else:
                received.filename = request.headers.get("x-filename", "upload")
                received.content_type = media.decode("latin-1")
                async for chunk in request_body(request, limits.file_bytes):
                    account(len(chunk))
                    sink.write(chunk)
                    received.size += len(chunk)
    except BaseException:
        received.path.unlink(missing_ok=True)
        raise
    if not received.filename or received.size == 0:
        received.path.unlink(missing_ok=True)
        raise ApiError(400, "send the file as the multipart form field 'file'")
    return received


async def _multipart(
    request: Request,
    boundary: bytes,
    sink: Any,
    received: Received,
    limits: SpoolLimits,
    account: Callable[[int], None],
) -> None:
    if not boundary:
        raise ApiError(400, "the multipart Content-Type has no boundary")
    reader = _FormReader(sink, received, limits)
    parser = MultipartParser(boundary, reader.callbacks())
    try:
        async for chunk in request_body(request, limits.file_bytes):
            account(len(chunk))
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        raise ApiError(400, f"the multipart body is malformed: {exc}") from None
