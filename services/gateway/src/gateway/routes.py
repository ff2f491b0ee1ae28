"""Read routes: wells, fields, their series, stats. Hot reads go through the cache."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from gateway.cache import jsonb, respond
from gateway.config import GatewaySettings
from gateway.deps import Clients
from gateway.models import FieldDetail, ProductionSeries, Stats, WellDetail, WellPage
from gateway.params import (
    Code,
    CodeFilter,
    Cursor,
    From,
    To,
    bounds,
    errors,
    guard,
    series_after,
    text_after,
)
from gateway.periods import Granularity
from gateway.queries import Queries, SeriesQuery
from gateway.sql import Scope
from runtime import generations
from runtime.errors import ApiError


@dataclass(frozen=True, slots=True)
class SeriesArgs:
    start: str | None
    end: str | None
    granularity: Granularity
    limit: int
    cursor: str | None


def build_router(settings: GatewaySettings, clients: Clients) -> APIRouter:
    router = APIRouter(prefix="/api/v1", dependencies=guard(settings, clients, "read"))
    Limit = Annotated[int, Query(ge=1, le=settings.page_limit_max, description="Items per page")]
    default_limit = settings.page_limit_default
    cached_docs = errors(304, 401, 403, 404, 422, 429, 503)

    async def cached(
        request: Request,
        kind: generations.Kind,
        code: str,
        produce: Callable[[], Awaitable[bytes]],
    ) -> Response:
        cache = clients.cache()
        if cache is None:
            return respond(request, await produce())
        return await cache.read_through(request, kind, code, produce)

    async def detail(
        request: Request,
        scope: Scope,
        code: str,
        fetch: Callable[[Queries, str], Awaitable[BaseModel | None]],
    ) -> Response:
        """``fetch`` runs on a cache miss only: a hit takes no client from the pool."""

        async def produce() -> bytes:
            found = await fetch(clients.queries(), code)
            if found is None:
                raise ApiError(404, f"{scope} {code!r} is not known")
            return jsonb(found)

        return await cached(request, scope, code, produce)

    async def series(scope: Scope, code: str, q: SeriesArgs) -> bytes:
        first, last = bounds(q.start, q.end)
        after = series_after(q.cursor)
        query = SeriesQuery(scope, code, first, last, q.granularity, q.limit, after)
        queries = clients.queries()
        result = await queries.series(query)
        if not result.items and after is None and not await queries.exists(scope, code):
            raise ApiError(404, f"{scope} {code!r} is not known")
        return result.json()

    @router.get(
        "/wells",
        response_model=WellPage,
        responses=errors(304, 401, 403, 422, 429, 503),
        summary="List or search wells",
        tags=["wells"],
    )
    async def list_wells(
        request: Request,
        q: Annotated[str | None, Query(min_length=1, max_length=100, examples=["F-12"])] = None,
        field_code: CodeFilter = None,
        limit: Limit = default_limit,
        cursor_token: Cursor = None,
    ) -> Response:
        """Wells ordered by code. `q` matches code, name or reference (case-insensitive);
        `field_code` keeps wells that reported to that field. Pages are keyed on the
        well code, so wells inserted meanwhile never shift or repeat a page."""
        page = await clients.queries().wells(
            limit=limit, after=text_after(cursor_token), q=q, field=field_code
        )
        return respond(request, jsonb(page))

    # Codes may hold a slash (Norwegian wells: 15/9-F-12), sent as it is or as %2F: the
    # path converter takes it, and each series route comes before its detail route,
    # whose pattern would take ".../production" as part of the code.
    @router.get(
        "/wells/{well_code:path}/production",
        response_model=ProductionSeries,
        responses=cached_docs,
        summary="A well's production series",
        tags=["wells"],
    )
    async def well_production(
        request: Request,
        well_code: Code,
        start: From = None,
        end: To = None,
        granularity: Granularity = "month",
        limit: Limit = default_limit,
        cursor_token: Cursor = None,
    ) -> Response:
        """Sums per period over the latest version of each record. A well reporting to
        several fields in one period sums its volumes over them and counts its
        producing time once (the largest share)."""
        args = SeriesArgs(
            start=start, end=end, granularity=granularity, limit=limit, cursor=cursor_token
        )
        return await cached(request, "well", well_code, lambda: series("well", well_code, args))

    @router.get(
        "/wells/{well_code:path}",
        response_model=WellDetail,
        responses=cached_docs,
        summary="One well: latest production and cumulative totals",
        tags=["wells"],
    )
    async def get_well(request: Request, well_code: Code) -> Response:
        return await detail(request, "well", well_code, Queries.well)

    @router.get(
        "/fields/{field_code:path}/production",
        response_model=ProductionSeries,
        responses=cached_docs,
        summary="A field's production series, summed over its wells",
        tags=["fields"],
    )
    async def field_production(
        request: Request,
        field_code: Code,
        start: From = None,
        end: To = None,
        granularity: Granularity = "month",
        limit: Limit = default_limit,
        cursor_token: Cursor = None,
    ) -> Response:
        """Each well contributes its share reported to this field; producing days are
        summed over the wells."""
        args = SeriesArgs(
            start=start, end=end, granularity=granularity, limit=limit, cursor=cursor_token
        )
        return await cached(request, "field", field_code, lambda: series("field", field_code, args))

    @router.get(
        "/fields/{field_code:path}",
        response_model=FieldDetail,
        responses=cached_docs,
        summary="One field: latest production and cumulative totals over its wells",
        tags=["fields"],
    )
    async def get_field(request: Request, field_code: Code) -> Response:
        return await detail(request, "field", field_code, Queries.field)

    @router.get(
        "/stats",
        response_model=Stats,
        responses=errors(304, 401, 403, 429, 503),
        summary="What the store holds",
        tags=["stats"],
    )
    async def stats(request: Request) -> Response:
        return respond(request, jsonb(await clients.queries().stats()))

    return router
