"""Cached reads in Redis, tagged with the data generation of their well or field, and
ETags so a client holding the current body gets 304 without it.

An entry holds the generation current when it was stored, its ETag and its body; when
new data lands the writer bumps the generation (``runtime.generations``) and an entry of
an older generation is never served again. The generation and the entry are read in one
round trip, and a hit neither touches ClickHouse nor hashes the body again. The TTL only
reclaims memory.
"""

import hashlib
import logging
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.metrics import CACHE
from runtime import generations

log = logging.getLogger(__name__)


def jsonb(model: BaseModel) -> bytes:
    return model.model_dump_json().encode()


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


def entry_key(kind: generations.Kind, code: str, request: Request) -> str:
    query = "&".join(sorted(f"{k}={v}" for k, v in request.query_params.multi_items()))
    digest = hashlib.blake2b(f"{request.url.path}?{query}".encode(), digest_size=16)
    return f"wellstream:gateway:{kind}:{code}:{digest.hexdigest()}"


def pack(generation: int, etag: str, body: bytes) -> bytes:
    return f"{generation} {etag}\n".encode() + body


def unpack(stored: bytes | None, generation: int) -> tuple[str, bytes] | None:
    """The ETag and body of an entry stored at ``generation``; None for any other."""
    if stored is None:
        return None
    head, _, body = stored.partition(b"\n")
    tagged, _, etag = head.decode("ascii", "replace").partition(" ")
    if tagged != str(generation) or not etag:
        return None
    return etag, body


def extra_headers(request: Request) -> dict[str, str]:
    """Headers dependencies left for the response (the rate-limit ones)."""
    headers: dict[str, str] = getattr(request.state, "extra_headers", {})
    return {k: v for k, v in headers.items() if k.lower().startswith("x-ratelimit")}


def respond(
    request: Request, body: bytes, headers: dict[str, str] | None = None, etag: str | None = None
) -> Response:
    etag = etag or etag_of(body)
    extra = {**extra_headers(request), **(headers or {}), "ETag": etag}
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=extra)
    return Response(body, media_type="application/json", headers=extra)


class Cache:
    def __init__(self, redis: Redis, ttl: int) -> None:
        self._redis = redis
        self._ttl = ttl

    async def read_through(
        self,
        request: Request,
        kind: generations.Kind,
        code: str,
        produce: Callable[[], Awaitable[bytes]],
    ) -> Response:
        """The cached body when current, else ``produce()`` stored for next time. Redis
        trouble degrades to uncached reads rather than failing them."""
        key = entry_key(kind, code, request)
        generation: int | None = None
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(generations.key(kind, code))
                pipe.get(key)
                current, stored = await pipe.execute()
            generation = int(current or 0)
            entry = unpack(stored, generation)
        except RedisError as exc:
            log.warning("cache unavailable: %s", exc)
            entry = None
        if entry is not None:
            CACHE.labels("hit").inc()
            return respond(request, entry[1], {"X-Cache": "hit"}, etag=entry[0])
        CACHE.labels("miss").inc()
        body = await produce()
        etag = etag_of(body)
        if generation is not None:
            try:
                await self._redis.set(key, pack(generation, etag, body), ex=self._ttl)
            except RedisError as exc:
                log.warning("cache unavailable: %s", exc)
        return respond(request, body, {"X-Cache": "miss"}, etag=etag)
