"""The web dashboard: one page at ``/`` and at every ``/ui/...`` deep link (the page
routes itself in the browser), and its built assets under ``/ui/assets/``.

The assets are built from ``services/gateway/ui`` by ``make install`` (``scripts/ui.sh``)
into ``ui/dist``, which is not committed; nothing is fetched from elsewhere at run
time, and the page's policy allows this origin only.
"""

from pathlib import Path
from typing import Final

from fastapi import APIRouter
from fastapi.responses import FileResponse, PlainTextResponse, RedirectResponse, Response

#: Where ``scripts/ui.sh build`` writes the dashboard (``index.html``, ``assets/``).
DIST: Final = Path(__file__).resolve().parents[2] / "ui" / "dist"
POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HEADERS: Final = {"Content-Security-Policy": POLICY, "Cache-Control": "no-cache"}


def page(dist: Path) -> Response:
    index = dist / "index.html"
    if not index.is_file():
        return PlainTextResponse(
            "The dashboard is not built: run `make install` (scripts/ui.sh build).", 503
        )
    return FileResponse(index, media_type="text/html", headers=HEADERS)


def asset(dist: Path, name: str) -> Response:
    root = (dist / "assets").resolve()
    found = (root / name).resolve()
    if not found.is_relative_to(root) or not found.is_file():
        return PlainTextResponse("not found", 404)
    return FileResponse(found, headers=HEADERS)


def build_router(dist: Path = DIST) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def overview() -> Response:
        return page(dist)

    @router.get("/ui")
    async def bare() -> Response:
        return RedirectResponse("/ui/", 308)

    @router.get("/ui/assets/{name:path}")
    async def assets(name: str) -> Response:
        return asset(dist, name)

    @router.get("/ui/{deep:path}")
    async def deep_link(deep: str) -> Response:
        return page(dist)

    return router
