"""FastAPI application factory shared by the HTTP services."""

import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware

from runtime import errors
from runtime.context import request_id_var
from runtime.health import Check, health_router
from runtime.metrics import HTTP_LATENCY, HTTP_REQUESTS, metrics_router
from runtime.responses import FastJSONResponse
from runtime.settings import Settings

_ALLOWED_HEADERS = ["Authorization", "X-API-Key", "X-Request-ID", "Content-Type", "If-None-Match"]
_EXPOSED_HEADERS = [
    "X-Request-ID",
    "ETag",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]


def create_app(
    service: str,
    settings: Settings,
    *,
    lifespan: Lifespan | None,
    checks: Mapping[str, Check],
    description: str,
) -> FastAPI:
    app = FastAPI(
        title=f"wellstream {service}",
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        default_response_class=FastJSONResponse,
    )
    errors.install(app)
    app.include_router(health_router(checks))
    app.include_router(metrics_router())
    if settings.cors_allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allowed_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "X-API-Key",
                "X-Request-ID",
                "Content-Type",
                "If-None-Match",
            ],
            expose_headers=[
                "X-Request-ID",
                "ETag",
                "Retry-After",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
            ],
        )

    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        incoming = request.headers.get("x-request-id", "")
        request_id = incoming if 0 < len(incoming) <= 128 else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        finally:
            request_id_var.reset(token)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        HTTP_REQUESTS.labels(service, request.method, path, str(response.status_code)).inc()
        HTTP_LATENCY.labels(service, path).observe(time.perf_counter() - started)
        response.headers["X-Request-ID"] = request_id
        return response

    return app
