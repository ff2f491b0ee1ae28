"""Request bodies as bounded streams of chunks, and chunks as batches of parsed items."""

import zlib
from collections.abc import AsyncIterable, AsyncIterator

from fastapi import Request

from ingestor.parsing import Item, Parser
from runtime.errors import ApiError


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
        items = parser.feed(chunk)
        if items:
            yield items
    items = parser.close()
    if items:
        yield items
