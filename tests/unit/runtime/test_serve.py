"""A service process freezes what it holds once its lifespan has started, not before."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from runtime import http


async def test_serve_freezes_the_objects_once_the_app_started(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frozen_during_start: list[int] = []

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        frozen_during_start.append(gc.get_freeze_count())
        yield

    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: served.append(app))
    gc.unfreeze()
    try:
        http.serve(FastAPI(lifespan=lifespan), "127.0.0.1", 0)
        (app,) = served
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()

    assert frozen_during_start == [0]
