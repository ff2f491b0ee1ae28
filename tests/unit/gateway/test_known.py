"""Query parameters a route does not declare answer 400 on every API route, and cache
keys hold the declared ones only, unambiguously encoded."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.datastructures import QueryParams

from gateway import routes
from gateway.app import create_app
from gateway.config import GatewaySettings
from gateway.deps import Clients
from gateway.known import api_routes, declared, query_key

ADMIN_KEY = "admin-key-0123456789"
SETTINGS = GatewaySettings.model_validate(
    {"api_keys": [{"name": "ops", "key": ADMIN_KEY, "scopes": ["admin"]}]}
)
APP = create_app(SETTINGS)
API_ROUTES = [
    (method, r.path)
    for r in api_routes(APP.routes)
    if r.path.startswith(routes.PREFIX)
    for method in sorted(r.methods or ())
]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=APP)
    headers = {"X-API-Key": ADMIN_KEY}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://gateway", headers=headers
    ) as c:
        yield c


def series_route() -> APIRoute:
    router = routes.build_router(SETTINGS, Clients(cache_ttl=60))
    path = routes.PREFIX + routes.WELL_SERIES.path
    return next(r for r in router.routes if isinstance(r, APIRoute) and r.path == path)


def test_every_api_route_is_covered() -> None:
    paths = {path for _, path in API_ROUTES}
    assert {"/api/v1/export", "/api/v1/dead-letters/replay", "/api/v1/stats"} <= paths


@pytest.mark.parametrize(("method", "path"), API_ROUTES)
async def test_an_unknown_parameter_answers_400_naming_it(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    url = path.replace("{well_code:path}", "W1").replace("{field_code:path}", "F1")
    response = await client.request(
        method, url, params={"granularity": "month", "bogus": "1"}, json={"ids": ["x"]}
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error_code", "message", "details", "request_id", "timestamp"}
    assert body["error_code"] == "bad_request"
    assert "bogus" in body["message"]
    assert [d["field"] for d in body["details"] if d["field"] != "query.granularity"] == [
        "query.bogus"
    ]


def test_a_series_declares_its_window_and_page() -> None:
    assert declared(series_route()) == {
        "from",
        "to",
        "granularity",
        "cumulative",
        "limit",
        "cursor",
    }


@pytest.mark.parametrize(
    ("one", "other"),
    [
        pytest.param("cursor=a%26limit%3D5", "cursor=a&limit=5", id="separator-in-a-value"),
        pytest.param("from=2020-01%3Dx", "from=2020-01=x&to=", id="equals-in-a-value"),
        pytest.param("to=1&to=2", "to=2&to=1", id="repeated-in-another-order"),
    ],
)
def test_keys_of_different_queries_differ(one: str, other: str) -> None:
    route = series_route()
    assert query_key(route, QueryParams(one)) != query_key(route, QueryParams(other))


def test_keys_ignore_order_and_hold_only_declared_names() -> None:
    route = series_route()
    key = query_key(route, QueryParams("granularity=year&from=2020-01"))
    assert key == query_key(route, QueryParams("from=2020-01&granularity=year"))
    assert key == b'[["from","2020-01"],["granularity","year"]]'


def test_a_route_that_takes_a_collected_routes_id_is_asked_for_its_own_parameters() -> None:
    """Apps are built one after another (a test each): a route of a later app may take the
    id of one collected since, and must not answer with that route's parameters."""
    import weakref

    from gateway import known

    app = create_app(SETTINGS)
    route = next(r for r in api_routes(app.routes) if r.path.endswith("/type-curves"))
    gone = APIRoute("/gone", lambda: None)
    known._DECLARED[id(route)] = (weakref.ref(gone), frozenset({"stale"}))
    del gone  # its weak reference is now dead, as for a collected app's route

    assert {"field_code", "months"} <= declared(route)
    assert "stale" not in declared(route)
