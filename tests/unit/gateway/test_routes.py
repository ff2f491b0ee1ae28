"""Auth and input checks, answered before any query runs (no infrastructure needed)."""

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.app import create_app
from gateway.config import GatewaySettings

READ_KEY = "read-key-0123456789"
INGEST_KEY = "ingest-key-0123456789"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    settings = GatewaySettings.model_validate(
        {
            "api_keys": [
                {"name": "reader", "key": READ_KEY, "scopes": ["read"]},
                {"name": "loader", "key": INGEST_KEY, "scopes": ["ingest"]},
            ]
        }
    )
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as c:
        yield c


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        pytest.param({}, 401, "unauthorized", id="no-key"),
        pytest.param({"X-API-Key": "wrong-key-0123456789"}, 401, "unauthorized", id="bad-key"),
        pytest.param({"Authorization": "Bearer nope"}, 401, "unauthorized", id="bad-bearer"),
        pytest.param({"X-API-Key": INGEST_KEY}, 403, "forbidden", id="wrong-scope"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/stats", "/api/v1/wells/W1/production"])
async def test_auth_failures_use_the_error_shape(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], status: int, code: str
) -> None:
    response = await client.get(path, headers=headers)
    assert response.status_code == status
    body = response.json()
    assert body["error_code"] == code
    assert body["request_id"] == response.headers["x-request-id"]
    assert READ_KEY not in response.text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param("granularity=week", "query.granularity", id="granularity"),
        pytest.param("from=2024-1", "query.from", id="from-format"),
        pytest.param("to=2024-02-30", "query.to", id="no-such-day"),
        pytest.param("from=2024-05&to=2024-01", "query.from", id="from-after-to"),
        pytest.param("limit=0", "query.limit", id="limit-zero"),
        pytest.param("limit=10001", "query.limit", id="limit-too-big"),
        pytest.param("cursor=xyz", "query.cursor", id="foreign-cursor"),
    ],
)
async def test_bad_input_is_422(client: httpx.AsyncClient, query: str, field: str) -> None:
    response = await client.get(
        f"/api/v1/wells/W1/production?{query}", headers={"X-API-Key": READ_KEY}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error_code"] == "validation_error"
    assert field in [d["field"] for d in body["details"]]


async def test_health_needs_no_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200


async def test_openapi_documents_the_routes(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "/api/v1/wells/{well_code}/production" in schema["paths"]
    assert "/api/v1/stats" in schema["paths"]
