"""The shared HTTP layer: request ids, the one error shape, API keys and scopes."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import Depends, FastAPI, Query

from runtime.auth import KeyRing, require
from runtime.health import health_router
from runtime.http import create_app
from runtime.settings import ApiKey, Settings

READ_KEY = "read-key-0123456789abcdef"
ADMIN_KEY = "admin-key-0123456789abcdef"


def _app() -> FastAPI:
    keys = [
        ApiKey(name="reader", key=READ_KEY, scopes=["read"]),  # type: ignore[arg-type]
        ApiKey(name="ops", key=ADMIN_KEY, scopes=["admin"]),  # type: ignore[arg-type]
    ]
    ring = KeyRing(keys)
    app = create_app("test", Settings(), lifespan=None, checks={}, description="test")

    @app.get("/things", dependencies=[Depends(require("read", ring))])
    async def things(limit: int = Query(ge=1, le=10)) -> dict[str, int]:
        return {"limit": limit}

    @app.get("/admin", dependencies=[Depends(require("admin", ring))])
    async def admin() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http


def _is_error_shape(body: dict[str, object], code: str) -> bool:
    keys = {"error_code", "message", "details", "request_id", "timestamp"}
    return set(body) == keys and body["error_code"] == code


async def test_a_request_id_is_made_and_returned(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert len(response.headers["x-request-id"]) == 32


async def test_a_given_request_id_is_kept(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert response.status_code == 404
    body = response.json()
    assert _is_error_shape(body, "not_found")
    assert body["request_id"] == "abc-123"


@pytest.mark.parametrize(
    ("path", "headers", "status", "code"),
    [
        pytest.param("/things?limit=1", {}, 401, "unauthorized", id="no-key"),
        pytest.param("/things?limit=1", {"X-API-Key": "x" * 20}, 401, "unauthorized", id="bad-key"),
        pytest.param("/admin", {"X-API-Key": READ_KEY}, 403, "forbidden", id="missing-scope"),
        pytest.param(
            "/things?limit=99", {"X-API-Key": READ_KEY}, 422, "validation_error", id="bad-param"
        ),
    ],
)
async def test_errors_share_one_shape(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], status: int, code: str
) -> None:
    response = await client.get(path, headers=headers)
    assert response.status_code == status
    assert _is_error_shape(response.json(), code)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-API-Key": READ_KEY}, id="x-api-key"),
        pytest.param({"Authorization": f"Bearer {READ_KEY}"}, id="bearer"),
    ],
)
async def test_keys_are_accepted_in_either_header(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get("/things?limit=3", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"limit": 3}


async def test_admin_implies_every_scope(client: httpx.AsyncClient) -> None:
    response = await client.get("/things?limit=2", headers={"X-API-Key": ADMIN_KEY})
    assert response.status_code == 200


async def test_an_unexpected_error_is_a_500_without_its_detail(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom")
    assert response.status_code == 500
    body = response.json()
    assert _is_error_shape(body, "internal_error")
    assert "secret detail" not in response.text
    assert body["request_id"]


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        pytest.param("/things?limit=3", {"X-API-Key": READ_KEY}, id="answered"),
        pytest.param("/things?limit=3", {"Authorization": f"Bearer {READ_KEY}"}, id="bearer"),
        pytest.param("/admin", {"X-API-Key": READ_KEY}, id="refused"),
        pytest.param("/things?limit=3", {"X-API-Key": "x" * 20}, id="unknown-key"),
    ],
)
async def test_a_response_to_credentials_is_never_stored(
    client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> None:
    response = await client.get(path, headers=headers)
    assert response.headers["cache-control"] == "private, no-store"


async def test_a_response_without_credentials_says_nothing_of_caching(
    client: httpx.AsyncClient,
) -> None:
    assert "cache-control" not in (await client.get("/health/live")).headers


async def test_readiness_names_the_dependency_not_the_exception(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def down() -> None:
        raise ConnectionError("redis://admin:hunter2@10.0.0.7:6379 refused")

    async def slow() -> None:
        await asyncio.sleep(10)

    async def up() -> None:
        return None

    app = FastAPI()
    app.include_router(health_router({"redis": down, "kafka": slow, "clickhouse": up}, 0.05))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "redis": "error",
        "kafka": "error: timed out",
        "clickhouse": "ok",
    }
    assert "hunter2" not in response.text
    assert "hunter2" in caplog.text  # the operator finds the detail in the log
