"""The ingestor's upload routes, passed through so the dashboard stays same-origin.

The body streams from the browser to the ingestor as it arrives (never held whole);
the answer streams back. The ingestor authenticates, limits and answers errors in the
shared shape itself: the gateway adds no check of its own, only forwards the caller's
credentials. Not in the gateway's OpenAPI document: the ingestor's documents them.
"""

from typing import Annotated, Final

import httpx
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from gateway.config import GatewaySettings
from gateway.known import only_declared
from runtime.context import request_id_var
from runtime.errors import RETRY_AFTER, ApiError

FORWARDED: Final = ("content-type", "content-length", "x-api-key", "authorization")
RETURNED: Final = ("content-type", "retry-after", "x-ratelimit-remaining")
# the body may take long to send; connecting may not
TIMEOUT: Final = httpx.Timeout(10.0, read=None, write=None)


def unavailable(message: str) -> ApiError:
    return ApiError(503, message, headers={"Retry-After": RETRY_AFTER})


async def forward(request: Request, base: str | None) -> Response:
    if base is None:
        raise unavailable("uploads are not configured (WELLSTREAM_INGESTOR_URL)")
    url = httpx.URL(f"{base.rstrip('/')}{request.url.path}", query=request.url.query.encode())
    headers = {name: request.headers[name] for name in FORWARDED if name in request.headers}
    headers["x-request-id"] = request_id_var.get() or ""  # one id across both services
    http = httpx.AsyncClient(timeout=TIMEOUT)
    sent = http.build_request(request.method, url, headers=headers, content=request.stream())
    try:
        answer = await http.send(sent, stream=True)
    except httpx.HTTPError as exc:
        await http.aclose()
        raise unavailable(f"the ingestor is unavailable: {type(exc).__name__}") from exc

    async def close() -> None:
        await answer.aclose()
        await http.aclose()

    kept = {name: answer.headers[name] for name in RETURNED if name in answer.headers}
    return StreamingResponse(
        answer.aiter_raw(),
        status_code=answer.status_code,
        headers=kept,
        background=BackgroundTask(close),
    )


def build_router(settings: GatewaySettings) -> APIRouter:
    # an unknown query parameter answers 400 here too, as on every API route
    router = APIRouter(
        prefix="/api/v1/uploads", include_in_schema=False, dependencies=[Depends(only_declared)]
    )

    @router.post("")
    async def post_upload(
        request: Request,
        _format: Annotated[str | None, Query(alias="format")] = None,
        _encoding: Annotated[str | None, Query(alias="encoding")] = None,
    ) -> Response:
        """The ingestor's parameters are declared, and forwarded as sent."""
        return await forward(request, settings.ingestor_url)

    @router.get("/{upload_id}")
    async def get_upload(request: Request, upload_id: str) -> Response:
        return await forward(request, settings.ingestor_url)

    return router
