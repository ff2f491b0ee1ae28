"""``/health/live`` and ``/health/ready``: readiness checks each real dependency.

A probe is unauthenticated: the report names each dependency and a short status
(``ok``, ``error``, ``error: timed out``), never an exception's text, which may hold
hosts, users or paths; the detail goes to the log.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter

from runtime.responses import FastJSONResponse

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[object]]


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

    @router.get("/health/ready", summary="Every dependency answers", response_model=None)
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
