"""Read routes: wells, fields, their series, stats. Hot reads go through the cache.

Each route is declared once, in ``ROUTES``: its path, its docs and, for a cached route,
the kind of code its entries follow. ``build_router`` registers them for an app, with
the scope ``SCOPE``; ``gateway.hits`` answers current hits of the ``early`` ones before
routing, from the same declarations.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from gateway import analytics
from gateway.analytics import DeclineParams, RankingParams, TypeCurveParams
from gateway.cache import jsonb, respond
from gateway.config import GatewaySettings
from gateway.deps import AppClients, Clients, viewer_of
from gateway.models import FieldDetail, ProductionSeries, Stats, WellDetail, WellPage
from gateway.params import (
    Code,
    Page,
    WellFilter,
    Window,
    bounds,
    guard,
    paged,
    series_after,
    well_after,
)
from gateway.queries import Queries, SeriesQuery
from runtime import generations
from runtime import settings as runtime_settings
from runtime.errors import ApiError, error_responses

PREFIX: Final = "/api/v1"
#: The scope every read route requires.
SCOPE: Final[runtime_settings.Scope] = "read"


@dataclass(frozen=True, slots=True)
class Cached:
    """A route whose answers are cached under the generation of the ``kind`` code in its
    path; current hits of an ``early`` one are answered before routing (``gateway.hits``)."""

    kind: generations.Kind
    path: str
    early: bool = False


# Codes may hold a slash (Norwegian wells: 15/9-F-12), sent as it is or as %2F: the path
# converter takes it, and each series route comes before its detail route (``ROUTES``),
# whose pattern would take ".../production" as part of the code.
WELL_SERIES: Final = Cached("well", "/wells/{well_code:path}/production", early=True)
DECLINE: Final = Cached("well", "/wells/{well_code:path}/decline")
WELL: Final = Cached("well", "/wells/{well_code:path}")
FIELD_SERIES: Final = Cached("field", "/fields/{field_code:path}/production", early=True)
FIELD: Final = Cached("field", "/fields/{field_code:path}")
# Answers over many wells follow the store's generation, which any new data bumps.
TYPE_CURVES: Final = Cached("all", "/type-curves")
RANKINGS: Final = Cached("all", "/rankings")

SeriesWindow = Annotated[Window, Depends()]
WellFilters = Annotated[WellFilter, Depends()]


def unknown(at: Cached, code: str) -> ApiError:
    return ApiError(404, f"{at.kind} {code!r} is not known")


async def must_exist(queries: Queries, at: Cached, code: str, *, empty: bool) -> None:
    """404 when a read of the well or field of ``at`` found nothing (``empty``: its
    first page) and no record the caller may see names ``code``."""
    if at.kind == "all":
        raise TypeError("only a read of one well or field names a code")
    if empty and not await queries.exists(at.kind, code):
        raise unknown(at, code)


async def answer(
    request: Request,
    clients: Clients,
    at: Cached,
    code: str,
    produce: Callable[[], Awaitable[bytes]],
) -> Response:
    """The cached answer when current, else ``produce()``: on a hit it never runs, and
    takes no client from the pool."""
    cache = clients.cache()
    if cache is None:
        return respond(request, await produce())
    return await cache.read_through(request, at.kind, code, viewer_of(request), produce)


async def detail(
    request: Request,
    clients: Clients,
    at: Cached,
    code: str,
    fetch: Callable[[Queries, str], Awaitable[BaseModel | None]],
) -> Response:
    async def produce() -> bytes:
        found = await fetch(clients.queries(request), code)
        if found is None:
            raise unknown(at, code)
        return jsonb(found)

    return await answer(request, clients, at, code, produce)


async def series(
    request: Request, clients: Clients, at: Cached, code: str, window: Window, page: Page
) -> Response:
    scope = at.kind
    if scope == "all":
        raise TypeError("a series is a well's or a field's")

    async def produce() -> bytes:
        first, last = bounds(window.start, window.end)
        after = series_after(page.cursor)
        query = SeriesQuery(
            scope, code, first, last, window.granularity, page.limit, after, window.cumulative
        )
        queries = clients.queries(request)
        result = await queries.series(query)
        await must_exist(queries, at, code, empty=not result.items and after is None)
        return result.json()

    return await answer(request, clients, at, code, produce)


async def list_wells(
    request: Request, clients: AppClients, page: Page, filters: WellFilters
) -> Response:
    """Wells ordered by `sort` (the well code by default; a well without a name, operator
    or status sorts first), then code, `order` ascending or descending. `q` matches code,
    name or reference (case-insensitive); `field_code` keeps wells that reported to that
    field, `operator` and `basin` those with records of that operator or basin. Pages
    are keyed on the sort key and code, so wells inserted meanwhile never shift or
    repeat a page; a cursor serves only the order it was made in."""
    after = well_after(page.cursor, filters.sort, filters.order)
    found = await clients.queries(request).wells(
        limit=page.limit,
        after=after,
        sort=filters.sort,
        order=filters.order,
        q=filters.q,
        field=filters.field_code,
        operator=filters.operator,
        basin=filters.basin,
    )
    return respond(request, jsonb(found))


async def well_production(
    request: Request, clients: AppClients, well_code: Code, window: SeriesWindow, page: Page
) -> Response:
    """Sums per period over the latest version of each record. A well reporting to
    several fields in one period sums its volumes over them and counts its
    producing time once (the largest share)."""
    return await series(request, clients, WELL_SERIES, well_code, window, page)


async def get_well(request: Request, clients: AppClients, well_code: Code) -> Response:
    return await detail(request, clients, WELL, well_code, Queries.well)


async def field_production(
    request: Request, clients: AppClients, field_code: Code, window: SeriesWindow, page: Page
) -> Response:
    """Each well contributes its share reported to this field; producing days are
    summed over the wells."""
    return await series(request, clients, FIELD_SERIES, field_code, window, page)


async def get_field(request: Request, clients: AppClients, field_code: Code) -> Response:
    return await detail(request, clients, FIELD, field_code, Queries.field)


async def well_decline(
    request: Request,
    clients: AppClients,
    well_code: Code,
    params: Annotated[DeclineParams, Depends()],
) -> Response:
    """An Arps decline curve fitted to the well's monthly rates, its EUR and forecast."""

    async def produce() -> bytes:
        found = await analytics.decline(clients.queries(request), well_code, params)
        if found is None:
            raise unknown(DECLINE, well_code)
        return found

    return await answer(request, clients, DECLINE, well_code, produce)


async def type_curves(
    request: Request, clients: AppClients, params: Annotated[TypeCurveParams, Depends()]
) -> Response:
    """Wells aligned at their first month with production of the stream: P10 (high
    case), P50, P90 and mean of the monthly volumes, with the wells behind each month."""

    async def produce() -> bytes:
        return await analytics.type_curve(clients.queries(request), params)

    return await answer(request, clients, TYPE_CURVES, "", produce)


async def rankings(
    request: Request, clients: AppClients, params: Annotated[RankingParams, Depends()]
) -> Response:
    """Top wells, fields or operators by volume over the period, with their share."""

    async def produce() -> bytes:
        return await analytics.ranking(clients.queries(request), params)

    return await answer(request, clients, RANKINGS, "", produce)


async def stats(request: Request, clients: AppClients) -> Response:
    return respond(request, jsonb(await clients.queries(request).stats()))


CACHED_STATUSES: Final = (304, 400, 401, 403, 404, 422, 429, 503)


@dataclass(frozen=True, slots=True)
class Route:
    """A GET route of this module: where, what answers, and its docs."""

    at: Cached | str
    endpoint: Callable[..., Awaitable[Response]]
    model: type[BaseModel]
    summary: str
    tag: str
    statuses: tuple[int, ...] = CACHED_STATUSES

    @property
    def path(self) -> str:
        return self.at.path if isinstance(self.at, Cached) else self.at


ROUTES: Final = (
    Route("/wells", list_wells, WellPage, "List or search wells", "wells",
          (304, 400, 401, 403, 422, 429, 503)),
    Route(WELL_SERIES, well_production, ProductionSeries, "A well's production series",
          "wells"),
    Route(DECLINE, well_decline, analytics.DeclineAnswer,
          "A well's decline curve: Arps fit, EUR and forecast", "analytics"),
    Route(WELL, get_well, WellDetail, "One well: latest production and cumulative totals",
          "wells"),
    Route(FIELD_SERIES, field_production, ProductionSeries,
          "A field's production series, summed over its wells", "fields"),
    Route(FIELD, get_field, FieldDetail,
          "One field: latest production and cumulative totals over its wells", "fields"),
    Route(TYPE_CURVES, type_curves, analytics.TypeCurve,
          "Type curve: P10/P50/P90 and mean per month since first production", "analytics"),
    Route(RANKINGS, rankings, analytics.Ranking, "Top wells, fields or operators by volume",
          "analytics"),
    Route("/stats", stats, Stats, "What the store holds", "stats",
          (304, 400, 401, 403, 422, 429, 503)),
)  # fmt: skip


def early() -> tuple[Cached, ...]:
    """The cached routes whose current hits are answered before routing, in route order."""
    return tuple(r.at for r in ROUTES if isinstance(r.at, Cached) and r.at.early)


def build_router(settings: GatewaySettings, clients: Clients) -> APIRouter:
    router = APIRouter(prefix=PREFIX, dependencies=guard(settings, clients, SCOPE))
    for route in ROUTES:
        router.add_api_route(
            route.path,
            paged(route.endpoint, settings),
            methods=["GET"],
            response_model=route.model,
            responses=error_responses(*route.statuses),
            summary=route.summary,
            tags=[route.tag],
        )
    return router
