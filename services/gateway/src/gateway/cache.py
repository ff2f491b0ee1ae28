"""Cached reads in Redis, tagged with the data generation of their well or field and the
shares generation of their reader, and ETags so a client holding the current body gets
304 without it.

An entry is the answer for what one caller may see: its key holds the caller's
visibility (``visibility.Viewer.tag``: an organisation, or the platform), so callers of two
organisations never share an entry. It holds the generations current when it was stored
(its stamp), its ETag and its body; when new data lands the writer bumps the data
generation, when a share granted to an organisation is made or revoked the gateway bumps
that organisation's shares generation (``runtime.generations``), and an entry of an
older stamp is never served again. The generations and the entry are read in one round
trip, and a hit neither touches ClickHouse nor hashes the body again. The TTL only
reclaims memory.

Memory stays bounded: keys hold the route and its declared parameters only
(``gateway.known``: any other parameter answers 400 before a lookup), a body larger
than ``max_bytes`` is served but never stored, and every entry carries the TTL, so a
Redis run with ``maxmemory`` and ``maxmemory-policy volatile-lru`` evicts cache entries
and never the rate-limit counters or reference data, which it needs.
"""

import hashlib
import logging
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from gateway.known import query_key
from gateway.metrics import CACHE
from gateway.visibility import Viewer
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


def entry_key(kind: generations.Kind, code: str, request: Request, viewer: Viewer) -> str:
    """The entry of ``request`` for ``viewer``: its route (matched already), the canonical
    code, the route's declared parameters and what the viewer may see, unambiguously
    encoded (``known.query_key``; an organisation's name may hold any character)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        raise LookupError("a cached read needs its matched route")
    digest = hashlib.blake2b(route.path.encode(), digest_size=16)
    digest.update(b"\n" + query_key(route, request.query_params))
    digest.update(b"\n" + viewer.tag.encode())
    return f"wellstream:gateway:{kind}:{code}:{digest.hexdigest()}"


Stamp = str
"""The generations an entry was stored at: the data's, then the reader's shares'."""


def pack(stamp: Stamp, etag: str, body: bytes) -> bytes:
    return f"{stamp} {etag}\n".encode() + body


Entry = tuple[str, bytes]
"""A current entry's ETag and body."""


def queue_lookup(
    pipe: Pipeline, kind: generations.Kind, code: str, request: Request, viewer: Viewer
) -> str:
    """Queue on ``pipe`` the reads ``current`` takes: the generation of ``kind``'s
    ``code``, the shares generation of ``viewer``, then the entry of ``request`` for
    ``viewer``. Returns the entry's key."""
    key = entry_key(kind, code, request, viewer)
    pipe.get(generations.key(kind, code))
    pipe.get(generations.shares_key(viewer.tag))
    pipe.get(key)
    return key


def unpack(stored: bytes | None, stamp: Stamp) -> Entry | None:
    """The ETag and body of an entry stored at ``stamp``; None for any other."""
    if stored is None:
        return None
    head, _, body = stored.partition(b"\n")
    tagged, _, etag = head.decode("ascii", "replace").partition(" ")
    if tagged != stamp or not etag:
        return None
    return etag, body


def current(
    generation: bytes | None, shares: bytes | None, stored: bytes | None
) -> tuple[Stamp, Entry | None]:
    """The stamp the replies of ``queue_lookup`` name, and the entry when it was stored
    at that stamp."""
    stamp = f"{int(generation or 0)}.{(shares or b'-').decode('ascii', 'replace')}"
    return stamp, unpack(stored, stamp)


def hit(request: Request, entry: Entry) -> Response:
    """The answer to a current entry, wherever it was found."""
    CACHE.labels("hit").inc()
    etag, body = entry
    return respond(request, body, {"X-Cache": "hit"}, etag=etag)


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
    def __init__(self, redis: Redis, ttl: int, max_bytes: int) -> None:
        self._redis = redis
        self._ttl = ttl
        self._max_bytes = max_bytes

    async def read_through(
        self,
        request: Request,
        kind: generations.Kind,
        code: str,
        viewer: Viewer,
        produce: Callable[[], Awaitable[bytes]],
    ) -> Response:
        """The cached body when current, else ``produce()`` stored for next time. Redis
        trouble degrades to uncached reads rather than failing them."""
        generation: Stamp | None = None
        entry: Entry | None = None
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                key = queue_lookup(pipe, kind, code, request, viewer)
                generation, entry = current(*await pipe.execute())
        except RedisError as exc:
            log.warning("cache unavailable: %s", exc)
        if entry is not None:
            return hit(request, entry)
        CACHE.labels("miss").inc()
        body = await produce()
        etag = etag_of(body)
        if generation is not None:
            await self._store(key, pack(generation, etag, body))
        return respond(request, body, {"X-Cache": "miss"}, etag=etag)

    async def _store(self, key: str, entry: bytes) -> None:
        if len(entry) > self._max_bytes:
            CACHE.labels("too_large").inc()  # served, never stored
            return
        try:
            await self._redis.set(key, entry, ex=self._ttl)
        except RedisError as exc:
            log.warning("cache unavailable: %s", exc)
