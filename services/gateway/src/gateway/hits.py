"""Cache hits of the production series, answered before FastAPI routes the request.

A current cache entry needs nothing of what FastAPI does for a request (routing,
dependencies, parameter validation): the request was valid when the entry was stored,
and its key holds the path and query. So a GET of a well's or field's series, with a known
API key that has the scope, is counted against its rate limit and looked up in one Redis
round trip (the rate limit, the generation and the entry together), and a current entry is
answered as ``cache.respond`` answers it: same body, ETag, 304 and headers.

Anything else goes on to the app unchanged: another token (a JWT), a key without the
scope, a refused request, a miss or a stale entry, Redis trouble. A request counted here
carries its decision (``request.state.rate_limit``), so the rate-limit dependency never
counts it twice. It sits inside ``RequestContext``: hits get a request id, and their
metrics the series route's name.
"""

import contextlib
from typing import Final

from fastapi.routing import APIRoute
from redis.exceptions import NoScriptError, RedisError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from contracts.identifiers import canonical_code
from gateway.cache import entry_key, respond, unpack
from gateway.deps import Clients
from gateway.metrics import CACHE
from gateway.params import MAX_CODE_LENGTH
from runtime import generations
from runtime.auth import KeyRing, grants, presented_key
from runtime.ratelimit import RateLimiter, principal_key

#: Path prefix of each series route, its kind, and the route's path (metrics name it).
_SERIES: Final[tuple[tuple[str, generations.Kind, str], ...]] = (
    ("/api/v1/wells/", "well", "/api/v1/wells/{well_code:path}/production"),
    ("/api/v1/fields/", "field", "/api/v1/fields/{field_code:path}/production"),
)
_SUFFIX: Final = "/production"
#: The scope the series routes require (``routes.build_router``).
_SCOPE: Final = "read"


class CachedSeries:
    """ASGI middleware answering current cache hits of the series routes."""

    def __init__(self, app: ASGIApp, clients: Clients, keys: KeyRing) -> None:
        self.app = app
        self._clients = clients
        self._keys = keys
        self._routes: dict[str, APIRoute] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            hit = await self._hit(scope)
            if hit is not None:
                await hit(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _hit(self, scope: Scope) -> Response | None:
        series = _series(scope["path"])
        cache, redis = self._clients.cache(), self._clients.redis
        if series is None or cache is None or redis is None:
            return None
        kind, code, route = series
        request = Request(scope)
        token = presented_key(request)
        key = self._keys.lookup(token) if token else None
        if key is None or not grants(key.scopes, _SCOPE):
            return None  # another kind of token, or none: the app decides
        limiter = self._clients.limiter()
        try:
            async with redis.pipeline(transaction=False) as pipe:
                if limiter is not None:
                    limiter.queue(pipe, principal_key(key.name))
                pipe.get(generations.key(kind, code))
                pipe.get(entry_key(kind, code, request))
                replies = await pipe.execute()
        except NoScriptError:
            await self._reload(limiter)
            return None
        except (RedisError, OSError):
            return None  # the app degrades as it does for any request
        if limiter is not None:
            decision = limiter.decision(replies.pop(0))
            request.state.rate_limit = decision
            if not decision.allowed:
                return None  # the app answers 429 with this decision
            request.state.extra_headers = decision.headers()
        current, stored = replies
        entry = unpack(stored, int(current or 0))
        if entry is None:
            return None
        CACHE.labels("hit").inc()
        scope["route"] = self._route(scope, route)
        return respond(request, entry[1], {"X-Cache": "hit"}, etag=entry[0])

    @staticmethod
    async def _reload(limiter: RateLimiter | None) -> None:
        """Redis lost the rate-limit script (a restart): load it for the next request;
        this one goes to the app, which counts it."""
        if limiter is not None:
            with contextlib.suppress(RedisError, OSError):
                await limiter.load()

    def _route(self, scope: Scope, path: str) -> APIRoute | None:
        if self._routes is None:
            routes = getattr(scope.get("app"), "routes", ())  # the app Starlette sets
            self._routes = {r.path: r for r in routes if isinstance(r, APIRoute)}
        return self._routes.get(path)


def _series(path: str) -> tuple[generations.Kind, str, str] | None:
    """(kind, canonical code, route path) of a series path, as the routes match it (the
    code may hold slashes); None for any other path."""
    if not path.endswith(_SUFFIX):
        return None
    for prefix, kind, route in _SERIES:
        if path.startswith(prefix):
            code = path[len(prefix) : -len(_SUFFIX)]
            if 0 < len(code) <= MAX_CODE_LENGTH:
                return kind, canonical_code(code), route
            return None
    return None
