"""``/health/live`` and ``/health/ready``: readiness checks each real dependency.

A probe is unauthenticated: the report names each dependency and a short status
(``ok``, ``error``, ``error: timed out``), never an exception's text, which may hold
hosts, users or paths; the detail goes to the log.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter
from pydantic import BaseModel

from runtime.responses import FastJSONResponse

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[object]]


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


_READY_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"model": Readiness, "description": "Every dependency answers"},
    503: {"model": Readiness, "description": "A dependency does not answer"},
}


async def _status(name: str, check: Check, within_s: float) -> str:
    try:
        await asyncio.wait_for(check(), within_s)
    except TimeoutError:
        log.warning("readiness check %s timed out after %g s", name, within_s)
        return "error: timed out"
    except Exception as exc:  # a failed check is an answer, not an error
        log.warning("readiness check %s failed: %s: %s", name, type(exc).__name__, exc)
        return "error"
    return "ok"


def health_router(checks: Mapping[str, Check], timeout: float = 3.0) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health/live", summary="The process is up")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/health/ready",
        summary="Every dependency the request path needs answers",
        response_model=None,
        responses=_READY_RESPONSES,
    )
    async def ready() -> FastJSONResponse:
        results = await asyncio.gather(
            *(_status(name, check, timeout) for name, check in checks.items())
        )
        report = dict(zip(checks, results, strict=True))
        ok = all(r == "ok" for r in results)
        return FastJSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": report},
            status_code=200 if ok else 503,
        )

    return router
