"""Reads the dashboard's pages need beyond the series: a well's records with their
flags and every version, a field's stream split by well, dead letters per day and
reason. Registered before ``routes``, whose detail patterns would take ".../records"
as part of a code."""

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Final, Literal

from fastapi import APIRouter, Query, Request, Response

from gateway import cursor
from gateway.cache import jsonb, respond
from gateway.config import GatewaySettings
from gateway.deps import AppClients, Clients
from gateway.panelreads import PanelReads, Stream
from gateway.panels import Contributions, DeadLetterReasons, RecordHistoryPage
from gateway.params import Code, Page, guard, invalid, paged
from gateway.routes import PREFIX, SCOPE, Cached, answer, must_exist
from runtime.errors import error_responses

STATUSES: Final = (304, 400, 401, 403, 404, 422, 429, 503)
# Cached like the series, under their well's or field's generation: new data for it
# lands, and their entries are stale.
RECORDS: Final = Cached("well", "/wells/{well_code:path}/records")
CONTRIBUTIONS: Final = Cached("field", "/fields/{field_code:path}/contributions")


def record_after(token: str | None) -> tuple[date, str] | None:
    """A records page's cursor: the last record's period start and id."""
    if token is None:
        return None
    try:
        start, record_id = cursor.decode(token, arity=2)
        return date.fromisoformat(str(start)), str(record_id)
    except ValueError:
        raise invalid("query.cursor", "cursor is not valid") from None


async def well_records(
    request: Request, clients: AppClients, well_code: Code, page: Page
) -> Response:
    """The well's records by period, each with its current quality flags and every
    stored version (newest first), restatements included."""
    after = record_after(page.cursor)

    async def produce() -> bytes:
        queries = clients.queries(request)
        found = await PanelReads(queries).record_history(well_code, limit=page.limit, after=after)
        await must_exist(queries, RECORDS, well_code, empty=not found.items and after is None)
        return jsonb(found)

    return await answer(request, clients, RECORDS, well_code, produce)


async def field_contributions(
    request: Request,
    clients: AppClients,
    field_code: Code,
    stream: Stream = "oil",
    granularity: Literal["month", "year"] = "month",
    top: Annotated[int, Query(ge=1, le=50, description="Wells shown one by one")] = 10,
) -> Response:
    """Each well's share of the field's stream per period: the `top` largest wells over
    the whole history one by one, the others summed in one series."""

    async def produce() -> bytes:
        queries = clients.queries(request)
        found = await PanelReads(queries).contributions(field_code, stream, granularity, top)
        await must_exist(queries, CONTRIBUTIONS, field_code, empty=not found.series)
        return jsonb(found)

    return await answer(request, clients, CONTRIBUTIONS, field_code, produce)


async def dead_letter_reasons(
    request: Request,
    clients: AppClients,
    days: Annotated[int, Query(ge=1, le=3_660, description="Days back from now")] = 30,
) -> Response:
    """Counts only, no payloads: the overview shows them to every reader."""
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days)
    return respond(
        request, jsonb(await PanelReads(clients.queries(request)).dead_letter_reasons(since))
    )


def build_router(settings: GatewaySettings, clients: Clients) -> APIRouter:
    router = APIRouter(prefix=PREFIX, dependencies=guard(settings, clients, SCOPE))
    declared = (
        (RECORDS.path, well_records, RecordHistoryPage,
         "A well's records: flags and every version", "wells"),
        (CONTRIBUTIONS.path, field_contributions, Contributions,
         "A field's stream split by well", "fields"),
        ("/stats/dead-letters", dead_letter_reasons, DeadLetterReasons,
         "Dead letters per day and rejection code", "stats"),
    )  # fmt: skip
    for path, endpoint, model, summary, tag in declared:
        router.add_api_route(
            path,
            paged(endpoint, settings),
            methods=["GET"],
            response_model=model,
            responses=error_responses(*STATUSES),
            summary=summary,
            tags=[tag],
        )
    return router
