"""Cache hits of the production series, answered before FastAPI routes the request.

A current cache entry needs nothing of what FastAPI does for a request (routing,
dependencies, parameter validation): the request was valid when the entry was stored,
and its key holds the route, the code and the parameters the route declares. So a GET
of a route ``routes.ROUTES`` declares ``early`` (a well's or field's series), with a
known API key that has the routes' scope and only parameters the route declares
(``gateway.known``; the app answers any other 400), is counted against its key's and
its organisation's rate limits and looked up in one Redis round trip (the rate limits,
the generations and the entry of what the key's organisation may see, together), and a
current entry is answered by ``cache.hit``, as ``Cache.read_through``
answers it: same body, ETag, 304 and headers.

Anything else goes on to the app unchanged: another token (a JWT), a key without the
scope, an unknown parameter, a refused request, a miss or a stale entry, Redis trouble.
A request counted here carries its decision (``request.state.rate_limit``), so the
rate-limit dependency never counts it twice. It sits inside ``RequestContext``: hits get
a request id, and their metrics the series route's name.
"""

import contextlib
import re
from typing import Any, Final

from fastapi.routing import APIRoute
from redis.exceptions import NoScriptError, RedisError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from contracts.identifiers import canonical_code
from gateway import routes
from gateway.cache import current, hit, queue_lookup
from gateway.deps import Clients, viewer
from gateway.known import api_routes, unknown
from gateway.params import MAX_CODE_LENGTH
from runtime.auth import KeyRing, Principal, grants, presented_key
from runtime.ratelimit import RateLimiter, principal_key

#: Each early route's path as the router matches it (the code may hold slashes), with
#: the route's declaration and its full path (metrics name it).
_EARLY: Final[tuple[tuple[re.Pattern[str], routes.Cached, str], ...]] = tuple(
    (compile_path(routes.PREFIX + at.path)[0], at, routes.PREFIX + at.path) for at in routes.early()
)


class CachedSeries:
    """ASGI middleware answering current cache hits of the early routes."""

    def __init__(self, app: ASGIApp, clients: Clients, keys: KeyRing) -> None:
        self.app = app
        self._clients = clients
        self._keys = keys
        self._routes: dict[str, APIRoute] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            answer = await self._hit(scope)
            if answer is not None:
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _hit(self, scope: Scope) -> Response | None:
        early = _early(scope["path"])
        if early is None or self._clients.cache() is None:
            return None
        at, code, path = early
        request = Request(scope)
        token = presented_key(request)
        key = self._keys.lookup(token) if token else None
        if key is None or not grants(key.scopes, routes.SCOPE):
            return None  # another kind of token, or none: the app decides
        principal = Principal.of(key)
        route = self._route(scope, path)
        if route is None or unknown(route, request.query_params):
            return None  # the app answers 400 naming the parameters
        scope["route"] = route  # the entry's key, and the metrics, name it
        replies = await self._lookup(request, principal, at, code)
        if replies is None:
            return None
        _, entry = current(*replies)
        if entry is None:
            return None
        return hit(request, entry)

    async def _lookup(
        self, request: Request, principal: Principal, at: routes.Cached, code: str
    ) -> list[Any] | None:
        """Count the request (for its key and its organisation) and read the generations
        and the entry for what the caller may see, in one round trip. The generation and
        entry replies, or None when the request goes to the app: Redis trouble, or
        refused by the rate limit (it carries the decision)."""
        redis, limiter = self._clients.redis, self._clients.limiter()
        if redis is None:
            return None
        try:
            async with redis.pipeline(transaction=False) as pipe:
                if limiter is not None:
                    limiter.queue(pipe, principal_key(principal.name), principal.organisation)
                queue_lookup(pipe, at.kind, code, request, viewer(principal))
                replies: list[Any] = await pipe.execute()
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
        return replies

    @staticmethod
    async def _reload(limiter: RateLimiter | None) -> None:
        """Redis lost the rate-limit script (a restart): load it for the next request;
        this one goes to the app, which counts it."""
        if limiter is not None:
            with contextlib.suppress(RedisError, OSError):
                await limiter.load()

    def _route(self, scope: Scope, path: str) -> APIRoute | None:
        if self._routes is None:
            found = getattr(scope.get("app"), "routes", ())  # the app Starlette sets
            self._routes = {r.path: r for r in api_routes(found)}
        return self._routes.get(path)


def _early(path: str) -> tuple[routes.Cached, str, str] | None:
    """(declaration, canonical code, route path) of an early route's path, matched as the
    router matches it; None for any other path."""
    for pattern, at, route in _EARLY:
        match = pattern.match(path)
        if match is not None:
            (code,) = match.groups()
            if 0 < len(code) <= MAX_CODE_LENGTH:
                return at, canonical_code(code), route
            return None
    return None
