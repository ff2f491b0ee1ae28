"""``/health/live`` and ``/health/ready``: readiness checks each real dependency."""

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter

from runtime.responses import FastJSONResponse

Check = Callable[[], Awaitable[object]]


def health_router(checks: Mapping[str, Check], timeout: float = 3.0) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health/live", summary="The process is up")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/health/ready", summary="Every dependency answers", response_model=None)
    async def ready() -> FastJSONResponse:
        async def run(check: Check) -> str:
            try:
                await asyncio.wait_for(check(), timeout)
            except Exception as exc:  # a failed check is an answer, not an error
                return f"error: {type(exc).__name__}: {exc}"[:300]
            return "ok"

        results = await asyncio.gather(*(run(check) for check in checks.values()))
        report = dict(zip(checks, results, strict=True))
        ok = all(r == "ok" for r in results)
        return FastJSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": report},
            status_code=200 if ok else 503,
        )

    return router
