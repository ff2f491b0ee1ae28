"""The query parameters a route declares, and nothing else.

A parameter no route reads is not ignored: it answers 400 naming it, on every API
route, before any cache lookup. Were it ignored, it would still reach the cache key
(one entry per made-up parameter, without bound) or, worse, make one request's key
equal another's. Cache keys hold the declared parameters only, each name and value
encoded unambiguously (``query_key``).
"""

import weakref
from collections.abc import Iterable, Iterator
from typing import Final

import orjson
from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.datastructures import QueryParams
from starlette.routing import BaseRoute

from runtime.errors import ApiError

# By the route's id, with a weak reference to the route: an id is reused by a route made
# after the first one was collected (apps built one after another), and the names found
# must be those of the route asking.
_DECLARED: Final[dict[int, tuple[weakref.ref[APIRoute], frozenset[str]]]] = {}


def _names(dependant: Dependant) -> Iterator[str]:
    for param in dependant.query_params:
        yield param.alias
    for sub in dependant.dependencies:
        yield from _names(sub)


def api_routes(found: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """The API routes among ``found``, those of included routers too (FastAPI keeps an
    included router whole, as one route of the app, and matches into it)."""
    for route in found:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None) or getattr(route, "routes", None)
        if inner is not None:
            yield from api_routes(getattr(inner, "routes", inner))


def declared(route: APIRoute) -> frozenset[str]:
    """The names of the query parameters ``route`` reads, its dependencies' included."""
    found = _DECLARED.get(id(route))
    if found is None or found[0]() is not route:
        found = _DECLARED[id(route)] = (weakref.ref(route), frozenset(_names(route.dependant)))
    return found[1]


def unknown(route: APIRoute, query: QueryParams) -> list[str]:
    """The parameters of ``query`` that ``route`` does not read, sorted."""
    known = declared(route)
    return sorted({name for name in query if name not in known})


def query_key(route: APIRoute, query: QueryParams) -> bytes:
    """The declared parameters of ``query`` as one unambiguous text: a JSON list of
    [name, value] pairs by name, repeated names in the order sent (the last one wins)."""
    known = declared(route)
    pairs = sorted(((k, v) for k, v in query.multi_items() if k in known), key=lambda p: p[0])
    return orjson.dumps(pairs)


def refuse(names: list[str]) -> ApiError:
    details = [
        {"field": f"query.{name}", "code": "unknown_parameter", "message": "not a parameter"}
        for name in names
    ]
    return ApiError(400, f"unknown query parameters: {', '.join(names)}", details=details)


async def only_declared(request: Request) -> None:
    """A FastAPI dependency: 400 naming each query parameter the route does not read."""
    route = request.scope.get("route")
    if isinstance(route, APIRoute):
        names = unknown(route, request.query_params)
        if names:
            raise refuse(names)
