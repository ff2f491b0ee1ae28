"""Shares: an organisation's admin lets a partner organisation read the owner's records of
a well or a field, optionally over a period range, until the share is deleted.

Shares live in ClickHouse (``shares``), where every read's filter finds them
(``visibility.visible``): a share counts from the moment it is stored, and a deleted one no
longer does for the next query. Cached answers are keyed by what their reader may see;
the partner's shares generation is bumped before and after each change, so no answer
cached before the change, or while it was made, is served after it
(``runtime.generations``, ``gateway.cache``).
"""

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, Final, Self

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from redis.exceptions import RedisError

from contracts.identifiers import MAX_CODE_LENGTH, canonical_code, code_problem
from gateway import visibility
from gateway.config import GatewaySettings
from gateway.deps import Clients
from gateway.models import UtcDatetime
from gateway.params import guard
from gateway.queries import EARLIEST, LATEST
from gateway.visibility import SHARE_COLUMNS, SHARE_DELETE, SHARE_INSERT, Viewer
from runtime import generations
from runtime.auth import principal_of
from runtime.errors import RETRY_AFTER, ApiError, error_responses

MONTH: Final = r"^\d{4}-(0[1-9]|1[0-2])$"
Month = Annotated[str | None, Field(pattern=MONTH, examples=["2023-01"])]
Code = Annotated[str | None, Field(min_length=1, max_length=MAX_CODE_LENGTH)]
Organisation = Annotated[str, Field(min_length=1, max_length=128, examples=["partner-co"])]


class ShareRequest(BaseModel):
    """A well or a field (one of them) to share with ``organisation``, over the months
    ``from``..``to`` (each optional: open-ended)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    organisation: Organisation
    well_code: Code = None
    field_code: Code = None
    first: Month = Field(default=None, alias="from")
    last: Month = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _one_code(self) -> Self:
        if (self.well_code is None) == (self.field_code is None):
            raise ValueError("name exactly one of well_code and field_code")
        problem = code_problem(self.well_code or self.field_code or "")
        if problem is not None:
            raise ValueError(f"the code is {problem}")
        if self.first and self.last and self.first > self.last:
            raise ValueError("`from` is after `to`")
        return self


class Share(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    owner: str
    organisation: str = Field(description="The partner the share lets read")
    well_code: str | None
    field_code: str | None
    first: str | None = Field(serialization_alias="from")
    last: str | None = Field(serialization_alias="to")
    created_at: UtcDatetime


class SharePage(BaseModel):
    items: list[Share]


def _month_start(month: str | None) -> date:
    return date.fromisoformat(f"{month}-01") if month else EARLIEST


def _month_end(month: str | None) -> date:
    if not month:
        return LATEST
    year, number = map(int, month.split("-"))
    following = date(year + number // 12, number % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def share_of(row: tuple[Any, ...]) -> Share:
    id_, owner, partner, kind, code, first, last, created_at = row
    return Share(
        id=id_,
        owner=owner,
        organisation=partner,
        well_code=code if kind == "well" else None,
        field_code=code if kind == "field" else None,
        first=None if first == EARLIEST else first.strftime("%Y-%m"),
        last=None if last == LATEST else last.strftime("%Y-%m"),
        created_at=created_at,
    )


async def invalidate(clients: Clients, partner: str) -> None:
    """Bump the shares generation of ``partner``: its cached answers are not served again.
    503 when Redis cannot be told (the share is then left as it was)."""
    if clients.redis is None:
        return  # nothing is cached, and readers read their shares on every read
    try:
        await generations.bump_shares(clients.redis, Viewer(partner).tag)
    except (RedisError, OSError) as exc:
        message = "the read cache cannot be told of the change; retry later"
        raise ApiError(503, message, headers={"Retry-After": RETRY_AFTER}) from exc


async def create(clients: Clients, owner: str, body: ShareRequest) -> Share:
    """Store ``owner``'s share; the partner's cached answers and shares are renewed."""
    if body.organisation == owner:
        raise ApiError(422, "an organisation already reads its own records")
    kind, code = ("well", body.well_code) if body.well_code else ("field", body.field_code)
    params: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "owner": owner,
        "partner": body.organisation,
        "kind": kind,
        "code": canonical_code(code or ""),
        "first_period": _month_start(body.first),
        "last_period": _month_end(body.last),
        "created_at": datetime.now(UTC),
    }
    await invalidate(clients, body.organisation)
    await clients.clickhouse().command(SHARE_INSERT, params)
    await invalidate(clients, body.organisation)
    return share_of(tuple(params[name] for name in SHARE_COLUMNS))


async def revoke(clients: Clients, owner: str, share_id: str) -> None:
    """Delete ``owner``'s share ``share_id`` (404 for any other): from the next read on,
    the partner no longer sees what it granted."""
    ch = clients.clickhouse()
    params = {"owner": owner, "id": share_id}
    found = await ch.rows(visibility.shares(one=True), params)
    if not found:
        raise ApiError(404, f"share {share_id!r} is not known")
    partner = share_of(found[0]).organisation
    await invalidate(clients, partner)
    await ch.command(SHARE_DELETE, params)
    await invalidate(clients, partner)


def build_router(settings: GatewaySettings, clients: Clients) -> APIRouter:
    router = APIRouter(
        prefix="/api/v1/shares", dependencies=guard(settings, clients, "admin"), tags=["shares"]
    )

    @router.post(
        "",
        status_code=201,
        response_model=Share,
        response_model_by_alias=True,
        responses=error_responses(400, 401, 403, 422, 429, 503),
        summary="Share a well or a field, optionally over a period range, with an organisation",
    )
    async def create_share(request: Request, body: ShareRequest) -> Share:
        return await create(clients, principal_of(request).organisation, body)

    @router.get(
        "",
        response_model=SharePage,
        response_model_by_alias=True,
        responses=error_responses(),
        summary="The shares this organisation granted",
    )
    async def list_shares(request: Request) -> SharePage:
        owner = principal_of(request).organisation
        rows = await clients.clickhouse().rows(visibility.shares(one=False), {"owner": owner})
        return SharePage(items=[share_of(row) for row in rows])

    @router.delete(
        "/{share_id}",
        status_code=204,
        responses=error_responses(401, 403, 404, 429, 503),
        summary="Revoke a share: the partner no longer reads what it granted, from now on",
    )
    async def delete_share(
        request: Request, share_id: Annotated[str, Path(max_length=64)]
    ) -> Response:
        await revoke(clients, principal_of(request).organisation, share_id)
        return Response(status_code=204)

    return router
