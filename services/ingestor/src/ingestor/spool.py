"""Uploaded files spooled to disk as they arrive: a multipart body is parsed as a stream
(python-multipart) and its ``file`` part written out, never held in memory; a plain
(non-multipart) body is taken as the file itself."""

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from ingestor.streams import request_body
from runtime.errors import ApiError


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

    def __init__(self, sink: Any, received: Received) -> None:
        self.sink, self.received = sink, received
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

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _part_begin(self) -> None:
        self._headers, self._name, self._is_file, self._field = {}, None, False, bytearray()

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
        elif len(self._field) < 1024:
            self._field += data[start:end]

    def _part_end(self) -> None:
        if self._name and not self._is_file:
            self.received.fields[self._name] = self._field.decode("utf-8", "replace")[:1024]
        self._is_file = False


async def receive(request: Request, directory: Path, limit: int) -> Received:
    """Spool the uploaded file to ``directory``; 413 beyond ``limit``, 400 without a file."""
    media, options = parse_options_header(request.headers.get("content-type", ""))
    fd, name = tempfile.mkstemp(prefix="upload-", dir=directory)
    received = Received(Path(name))
    try:
        with os.fdopen(fd, "wb") as sink:
            if media == b"multipart/form-data":
                reader = _FormReader(sink, received)
                parser = MultipartParser(options.get(b"boundary", b""), reader.callbacks())
                async for chunk in request_body(request, limit):
                    parser.write(chunk)
                parser.finalize()
            else:
                received.filename = request.headers.get("x-filename", "upload")
                received.content_type = media.decode("latin-1")
                async for chunk in request_body(request, limit):
                    sink.write(chunk)
                    received.size += len(chunk)
    except BaseException:
        received.path.unlink(missing_ok=True)
        raise
    if not received.filename or received.size == 0:
        received.path.unlink(missing_ok=True)
        raise ApiError(400, "send the file as the multipart form field 'file'")
    return received
