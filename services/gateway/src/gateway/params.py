"""Request parameters shared by the routes, their checks, and the error docs."""

import functools
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Final, Literal, ParamSpec, TypeVar, get_args

from fastapi import Depends, Path, Query, Request, Response
from pydantic import AfterValidator

# The longest code a request may name is the longest the validator keeps; ``hits``
# reads it from here.
from contracts.identifiers import MAX_CODE_LENGTH as MAX_CODE_LENGTH
from contracts.identifiers import canonical_code
from gateway import cursor, periods
from gateway.config import GatewaySettings
from gateway.deps import Clients
from gateway.jwtauth import authenticators
from gateway.known import only_declared
from gateway.listing import WELL_SORTS, WellSort
from gateway.periods import BOUND_PATTERN, Granularity
from gateway.queries import EARLIEST, LATEST
from runtime.auth import KeyRing, require
from runtime.errors import ApiError
from runtime.ratelimit import limit_requests
from runtime.settings import Scope

_UNITS: Final = frozenset(get_args(Granularity))


def guard(settings: GatewaySettings, clients: Clients, scope: Scope) -> list[Any]:
    """The dependencies every API route carries, in order: a key or JWT with ``scope``,
    the per-key rate limit, then 400 for a query parameter the route does not read."""
    authenticate = require(scope, KeyRing(settings.api_keys), *authenticators(settings))
    fail_open = scope in settings.rate_limit_fail_open

    async def rate_limit(request: Request, response: Response) -> None:
        limiter = clients.limiter()
        if limiter is not None:
            await limit_requests(limiter, fail_open=fail_open)(request, response)
            # routes answer with Response objects of their own: carry the headers over
            request.state.extra_headers = dict(response.headers)

    return [Depends(authenticate), Depends(rate_limit), Depends(only_declared)]


# Codes are looked up in their canonical form, the one the validator stores.
Code = Annotated[
    str,
    Path(min_length=1, max_length=MAX_CODE_LENGTH, examples=["7-MRL-123D-RJS"]),
    AfterValidator(canonical_code),
]


def _canonical_or_none(code: str | None) -> str | None:
    return canonical_code(code) if code is not None else None


# Filters by code match the stored canonical form, as the path parameters do.
CodeFilter = Annotated[
    str | None,
    Query(min_length=1, max_length=MAX_CODE_LENGTH),
    AfterValidator(_canonical_or_none),
]
From = Annotated[
    str | None,
    Query(alias="from", pattern=BOUND_PATTERN, examples=["2023-01"], description="YYYY-MM[-DD]"),
]
To = Annotated[
    str | None,
    Query(alias="to", pattern=BOUND_PATTERN, examples=["2024-12-31"], description="YYYY-MM[-DD]"),
]
Cursor = Annotated[
    str | None, Query(alias="cursor", max_length=512, description="`next_cursor` of a page")
]


@dataclass(frozen=True, slots=True)
class Window:
    """The periods and granularity a series covers (validated by ``bounds``)."""

    start: From = None
    end: To = None
    granularity: Granularity = "month"
    cumulative: Annotated[
        bool, Query(description="Add running totals from the first period held")
    ] = False


@dataclass(frozen=True, slots=True)
class WellFilter:
    """The filters of a wells list."""

    q: Annotated[str | None, Query(min_length=1, max_length=100, examples=["F-12"])] = None
    field_code: CodeFilter = None
    operator: Annotated[str | None, Query(min_length=1, max_length=200)] = None
    basin: Annotated[str | None, Query(min_length=1, max_length=200)] = None
    sort: Annotated[
        WellSort, Query(description="What the whole list is ordered by, then the well code")
    ] = "well_code"
    order: Literal["asc", "desc"] = "asc"


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    cursor: str | None


def paging(settings: GatewaySettings) -> Callable[..., Page]:
    """The ``limit`` and ``cursor`` parameters, with the settings' page limits."""
    limit_max, limit_default = settings.page_limit_max, settings.page_limit_default
    Limit = Annotated[int, Query(ge=1, le=limit_max, description="Items per page")]

    def page(limit: Limit = limit_default, cursor_token: Cursor = None) -> Page:
        return Page(limit, cursor_token)

    return page


P = ParamSpec("P")
R = TypeVar("R")


def paged(
    endpoint: Callable[P, Awaitable[R]], settings: GatewaySettings
) -> Callable[P, Awaitable[R]]:
    """``endpoint`` with its ``Page`` parameter taken from ``paging(settings)``.

    FastAPI reads a parameter's bounds and default from the endpoint's signature when it
    builds a route, and the page limits are settings: each router registers this copy of
    the module-level handler, whose signature carries them."""
    signature = inspect.signature(endpoint)
    configured = Annotated[Page, Depends(paging(settings))]
    parameters = [
        p.replace(annotation=configured) if p.annotation is Page else p
        for p in signature.parameters.values()
    ]

    @functools.wraps(endpoint)
    async def bound(*args: P.args, **kwargs: P.kwargs) -> R:
        return await endpoint(*args, **kwargs)

    bound.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return bound


def invalid(field: str, message: str) -> ApiError:
    details = [{"field": field, "code": "value_error", "message": message}]
    return ApiError(422, "request is not valid", details=details)


def bounds(start: str | None, end: str | None) -> tuple[date, date]:
    try:
        first = periods.parse_bound(start, end=False) if start else EARLIEST
    except ValueError as exc:
        raise invalid("query.from", str(exc)) from None
    try:
        last = periods.parse_bound(end, end=True) if end else LATEST
    except ValueError as exc:
        raise invalid("query.to", str(exc)) from None
    if first > last:
        raise invalid("query.from", "`from` is after `to`")
    return first, last


def series_after(token: str | None) -> tuple[date, str] | None:
    if token is None:
        return None
    try:
        day, unit = cursor.decode(token, arity=2)
        if unit not in _UNITS:
            raise cursor.CursorError("cursor is not valid")
        return date.fromisoformat(str(day)), str(unit)
    except ValueError:
        raise invalid("query.cursor", "cursor is not valid") from None


def well_after(token: str | None, sort: WellSort, order: str) -> tuple[str | date, str] | None:
    """The sort key and well code a wells page ended on, from a cursor of a list in the
    same order."""
    if token is None:
        return None
    try:
        made_for, direction, key, code = cursor.decode(token, arity=4)
    except ValueError:
        raise invalid("query.cursor", "cursor is not valid") from None
    if (made_for, direction) != (sort, order) or not isinstance(key, str):
        raise invalid("query.cursor", "cursor is of a list in another order") from None
    if WELL_SORTS[sort][1] != "Date32":
        return key, str(code)
    try:
        return date.fromisoformat(key), str(code)
    except ValueError:
        raise invalid("query.cursor", "cursor is not valid") from None


def time_after(token: str | None) -> tuple[datetime, str] | None:
    if token is None:
        return None
    try:
        at, key = cursor.decode(token, arity=2)
        return datetime.fromisoformat(str(at)), str(key)
    except ValueError:
        raise invalid("query.cursor", "cursor is not valid") from None
