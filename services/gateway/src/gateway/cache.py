"""Cached reads in Redis, keyed on the data generation of their well or field, and
ETags so a client holding the current body gets 304 without it.

A cache entry's key holds the generation current when it was stored; when new data
lands the writer bumps the generation (``runtime.generations``) and the old entry is
never read again. The TTL only reclaims memory.
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


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


def entry_key(kind: generations.Kind, code: str, generation: int, request: Request) -> str:
    query = "&".join(sorted(f"{k}={v}" for k, v in request.query_params.multi_items()))
    digest = hashlib.blake2b(f"{request.url.path}?{query}".encode(), digest_size=16)
    return f"wellstream:gateway:{kind}:{code}:{generation}:{digest.hexdigest()}"


def extra_headers(request: Request) -> dict[str, str]:
    """Headers dependencies left for the response (the rate-limit ones)."""
    headers: dict[str, str] = getattr(request.state, "extra_headers", {})
    return {k: v for k, v in headers.items() if k.lower().startswith("x-ratelimit")}


def respond(request: Request, body: bytes, headers: dict[str, str] | None = None) -> Response:
    etag = etag_of(body)
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
        produce: Callable[[], Awaitable[BaseModel]],
    ) -> Response:
        """The cached body when current, else ``produce()`` stored for next time. Redis
        trouble degrades to uncached reads rather than failing them."""
        key = None
        try:
            (generation,) = await generations.current(self._redis, generations.key(kind, code))
            key = entry_key(kind, code, generation, request)
            stored = await self._redis.get(key)
            body = stored.encode() if isinstance(stored, str) else stored
        except RedisError as exc:
            log.warning("cache unavailable: %s", exc)
            body = None
        if body is not None:
            CACHE.labels("hit").inc()
            return respond(request, body, {"X-Cache": "hit"})
        CACHE.labels("miss").inc()
        body = (await produce()).model_dump_json().encode()
        if key is not None:
            try:
                await self._redis.set(key, body, ex=self._ttl)
            except RedisError as exc:
                log.warning("cache unavailable: %s", exc)
        return respond(request, body, {"X-Cache": "miss"})
