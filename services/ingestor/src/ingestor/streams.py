"""Request bodies as bounded streams of chunks, and chunks as batches of parsed items."""

import asyncio
import zlib
from collections.abc import AsyncIterable, AsyncIterator

from fastapi import Request

from contracts import ErrorCode
from ingestor.jsonarray import JsonParser
from ingestor.limits import Limits
from ingestor.parsing import BOM, Item, NdjsonParser, Parser
from runtime.errors import ApiError

#: A body is parsed this much at a time, the event loop free in between: whatever the
#: transport's chunks, one step of parsing holds the loop for a millisecond or so.
SLICE = 64 * 1024


def too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"the body is larger than {limit} bytes",
        details={"limit_bytes": limit},
    )


async def request_body(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The body chunk by chunk, gunzipped when sent with ``Content-Encoding: gzip``;
    413 as soon as it (or what it inflates to) passes ``limit``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise ApiError(415, f"unsupported Content-Encoding {encoding!r}")
    inflate = zlib.decompressobj(wbits=31) if encoding == "gzip" else None
    seen = 0
    async for chunk in request.stream():
        if inflate is not None:
            try:
                chunk = inflate.decompress(chunk, limit - seen + 1)
            except zlib.error as exc:
                raise ApiError(400, f"the gzip body is corrupt: {exc}") from None
        seen += len(chunk)
        if seen > limit:
            raise too_large(limit)
        if chunk:
            yield chunk
    if inflate is not None and not inflate.eof:
        raise ApiError(400, "the gzip body is truncated")


async def parsed(chunks: AsyncIterable[bytes], parser: Parser) -> AsyncIterator[list[Item]]:
    async for chunk in chunks:
        for start in range(0, len(chunk), SLICE):
            items = parser.feed(chunk[start : start + SLICE])
            if items:
                yield items
            await asyncio.sleep(0)
    items = parser.close()
    if items:
        yield items


def _too_large(items: list[Item]) -> bool:
    return all(item.errors and item.errors[0].code == ErrorCode.RECORD_TOO_LARGE for item in items)


async def refuse_lone_oversize(
    batches: AsyncIterable[list[Item]], limits: Limits
) -> AsyncIterator[list[Item]]:
    """413 for a body that is one record over the limit: nothing else in it to accept,
    its sender learns at once what went wrong. Records beyond the limit among others
    are rejected lines, like any other bad record."""
    iterator = aiter(batches)
    first = await anext(iterator, None)
    if first is None:
        return
    if len(first) == 1 and _too_large(first):
        following = await anext(iterator, None)
        if following is None:
            limit = limits.record_bytes
            details = {"limit_bytes": limit, "line": first[0].line}
            raise ApiError(413, f"the record is larger than {limit} bytes", details=details)
        yield first
        first = following
    yield first
    async for batch in iterator:
        yield batch


class SniffingParser:
    """Chooses JSON (a body opening with '[') or NDJSON from the first non-blank byte."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._head = b""
        self._inner: Parser | None = None

    def feed(self, chunk: bytes) -> list[Item]:
        if self._inner is None:
            self._head += chunk
            start = self._head.removeprefix(BOM).lstrip(b" \t\r\n")
            if not start:
                if len(self._head) > self._limits.record_bytes:  # blanks only, so far
                    self._head = b""
                return []
            self._inner = (JsonParser if start[:1] == b"[" else NdjsonParser)(self._limits)
            chunk, self._head = self._head, b""
        return self._inner.feed(chunk)

    def close(self) -> list[Item]:
        return self._inner.close() if self._inner is not None else []


_NDJSON_TYPES = {"application/x-ndjson", "application/ndjson", "application/jsonl"}
_JSON_TYPES = {"application/json", "text/json"}
# curl's --data-binary sends a form type unless told otherwise: sniff it like no type.
_SNIFFED_TYPES = {"", "text/plain", "application/octet-stream", "application/x-www-form-urlencoded"}


def parser_for(content_type: str | None, limits: Limits) -> Parser | None:
    """The parser for a Content-Type, or None when the type is not one we read."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in _NDJSON_TYPES:
        return NdjsonParser(limits)
    if media in _JSON_TYPES:
        return JsonParser(limits)
    if media in _SNIFFED_TYPES:
        return SniffingParser(limits)
    return None
