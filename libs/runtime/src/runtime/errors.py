"""The one HTTP error shape, mapped once in exception handlers.

``{"error_code", "message", "details", "request_id", "timestamp"}`` with the status
that fits; a bare 500 never leaks a traceback. A ClickHouse failure that outlived the
adapter's retries (``clickhouse.is_transient``) is 503 with ``Retry-After``: the
request was fine, the store is away. A read whose answer exceeds the engine's row limit
is 422: the caller asked for too much.
"""

import logging
from datetime import UTC, datetime
from typing import Any

from clickhouse_connect.driver.exceptions import Error as ClickHouseError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from runtime.clickhouse import is_too_large, is_transient
from runtime.context import request_id_var
from runtime.responses import FastJSONResponse

log = logging.getLogger(__name__)

#: The answer to a read whose result exceeds the engine's row limit.
TOO_LARGE = (
    "the answer would exceed the row limit of a read: narrow it (a shorter from/to range, "
    "a coarser granularity, a smaller limit) or stream it with GET /api/v1/export"
)

#: Seconds a client is told to wait after a 503 for a dependency that is away.
RETRY_AFTER = "5"

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
}


_DESCRIPTIONS = {
    304: "Not modified (If-None-Match matched the ETag)",
    400: "The request cannot be read",
    401: "No valid API key or token",
    403: "The key lacks the scope",
    404: "Not found",
    409: "Conflicts with the resource's state",
    413: "Too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Rate limit exceeded; see Retry-After",
    503: "A dependency is unavailable; see Retry-After",
}


class ErrorBody(BaseModel):
    """The one error shape every route answers with."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "error_code": "validation_error",
                "message": "request is not valid",
                "details": [
                    {"field": "query.granularity", "code": "literal_error", "message": "…"}
                ],
                "request_id": "5f0c2d8e7a1b4c3d9e8f7a6b5c4d3e2f",
                "timestamp": "2025-07-02T08:15:03.120000+00:00",
            }
        }
    )

    error_code: str
    message: str
    details: Any = None
    request_id: str | None
    timestamp: datetime


def error_responses(*statuses: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route answering ``statuses`` (default 400, 401, 403, 422, 429,
    503) in the error shape; ``described`` overrides a description, keyed ``s413``. A 304
    has no body."""
    chosen = statuses or (400, 401, 403, 422, 429, 503)
    return {
        s: {"description": described.get(f"s{s}", _DESCRIPTIONS[s])}
        | ({} if s == 304 else {"model": ErrorBody})
        for s in chosen
    }


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _CODES.get(status, "error")
        self.message = message
        self.details = details
        self.headers = headers


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> FastJSONResponse:
    body = {
        "error_code": code,
        "message": message,
        "details": details,
        "request_id": request_id_var.get(),
        "timestamp": datetime.now(UTC).isoformat(),
    }
    return FastJSONResponse(body, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> FastJSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> FastJSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "code": e["type"], "message": e["msg"]}
            for e in exc.errors()
        ]
        return error_response(422, "validation_error", "request is not valid", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> FastJSONResponse:
        code = _CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, code, str(exc.detail), None, dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> FastJSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal error")

    @app.exception_handler(ClickHouseError)
    async def _store(request: Request, exc: ClickHouseError) -> FastJSONResponse:
        if is_too_large(exc):
            return error_response(422, "result_too_large", TOO_LARGE)
        if not is_transient(exc):
            return await _unexpected(request, exc)
        log.warning("dependency unavailable on %s: %r", request.url.path, exc)
        headers = {"Retry-After": RETRY_AFTER}
        return error_response(503, "unavailable", "a dependency is unavailable", None, headers)
