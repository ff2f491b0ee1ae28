"""Cache hits answered before FastAPI's routing (``gateway.hits``): what it answers, what
it leaves to the app, and that a request is never counted twice by the rate limit."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from contracts.identifiers import canonical_code
from gateway import routes
from gateway.cache import entry_key, pack
from gateway.deps import Clients
from gateway.hits import CachedSeries
from gateway.visibility import Viewer
from runtime import generations
from runtime import redis as redis_client
from runtime.auth import KeyRing
from runtime.clickhouse import ClickHouse
from runtime.ratelimit import Decision
from runtime.settings import ApiKey
from tests.integration.gateway_support import READ_KEY, Row, insert, serve, settings

OTHER_KEY = "gateway-other-key-0123456789"
DEFAULT = Viewer("default")

pytestmark = pytest.mark.integration

BODY = b'{"items":[]}'
ETAG = '"e1"'
#: What Starlette puts in ``scope["app"]``: the layer finds the routes there.
ROUTER = routes.build_router(settings(), Clients(cache_ttl=60))


class App:
    """The app behind the layer: records the requests that reach it."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scopes.append(scope)
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
async def clients(settings_env: dict[str, str]) -> AsyncIterator[Clients]:
    clients = Clients(cache_ttl=60, rate_limit=(5, 60.0, 0))
    clients.redis = redis_client.connect(settings_env["WELLSTREAM_REDIS_URL"])
    limiter = clients.limiter()
    assert limiter is not None
    await limiter.load()  # as the first counted request of a gateway does
    try:
        yield clients
    finally:
        await clients.redis.aclose()


def layer(app: App, clients: Clients, unique: str) -> CachedSeries:
    keys = [
        ApiKey(name=f"reader-{unique}", key=READ_KEY, scopes=["read"], organisation="default"),  # type: ignore[arg-type]
        ApiKey(name=f"ingest-{unique}", key="ingest-key-0123456789", scopes=["ingest"]),  # type: ignore[arg-type]
        ApiKey(name=f"other-{unique}", key=OTHER_KEY, scopes=["read"], organisation="other"),  # type: ignore[arg-type]
    ]
    return CachedSeries(app, clients, KeyRing(keys))


def scope(path: str, *headers: tuple[bytes, bytes], query: bytes = b"") -> Scope:
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [(b"x-api-key", READ_KEY.encode()), *headers],
        "app": ROUTER,
    }


async def call(middleware: CachedSeries, request: Scope) -> tuple[int, dict[str, str], bytes]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    await middleware(request, receive, send)
    head = {k.decode(): v.decode() for k, v in sent[0].get("headers", [])}
    return sent[0]["status"], head, b"".join(m.get("body", b"") for m in sent[1:])


async def store(
    clients: Clients,
    kind: generations.Kind,
    code: str,
    request: Scope,
    viewer: Viewer = DEFAULT,
) -> None:
    """An entry for ``request`` by ``viewer`` at the current generations of ``code``
    (canonical) and of the viewer's shares."""
    assert clients.redis is not None
    generation = int(await clients.redis.get(generations.key(kind, code)) or 0)
    stored = await clients.redis.get(generations.shares_key(viewer.tag))
    shares = stored.decode() if isinstance(stored, bytes) else stored or "-"
    template = routes.PREFIX + (routes.WELL_SERIES if kind == "well" else routes.FIELD_SERIES).path
    matched = next(r for r in ROUTER.routes if getattr(r, "path", None) == template)
    key = entry_key(kind, code, Request({**request, "route": matched}), viewer)
    await clients.redis.set(key, pack(f"{generation}.{shares}", ETAG, BODY), ex=60)


async def test_an_entry_is_never_answered_to_another_organisation(
    clients: Clients, unique: str
) -> None:
    app, code = App(), canonical_code(f"H{unique}")
    request = scope(f"/api/v1/wells/{code}/production")
    await store(clients, "well", code, request)
    other = {**request, "headers": [(b"x-api-key", OTHER_KEY.encode())]}
    assert (await call(layer(app, clients, unique), other))[0] == 299
    assert (await call(layer(app, clients, unique), dict(request)))[0] == 200


async def test_a_change_of_shares_makes_the_readers_entries_stale(
    clients: Clients, unique: str
) -> None:
    app, code = App(), canonical_code(f"H{unique}")
    request = scope(f"/api/v1/wells/{code}/production")
    await store(clients, "well", code, request)
    assert clients.redis is not None
    await generations.bump_shares(clients.redis, Viewer("default").tag)
    assert (await call(layer(app, clients, unique), dict(request)))[0] == 299


async def test_a_current_entry_is_answered_without_the_app(clients: Clients, unique: str) -> None:
    app, code = App(), canonical_code(f"H{unique}")
    request = scope(f"/api/v1/wells/{code}/production", query=b"granularity=year")
    await store(clients, "well", code, request)
    status, headers, body = await call(layer(app, clients, unique), request)
    assert (status, body) == (200, BODY)
    assert headers["etag"] == ETAG
    assert headers["x-cache"] == "hit"
    assert headers["content-type"] == "application/json"
    assert (headers["x-ratelimit-limit"], headers["x-ratelimit-remaining"]) == ("5", "4")
    assert app.scopes == []


async def test_if_none_match_gets_304_from_the_entry(clients: Clients, unique: str) -> None:
    app, code = App(), canonical_code(f"H{unique}")
    request = scope(f"/api/v1/fields/{code}/production", (b"if-none-match", ETAG.encode()))
    await store(clients, "field", code, request)
    status, headers, body = await call(layer(app, clients, unique), request)
    assert (status, body, headers["etag"]) == (304, b"", ETAG)
    assert app.scopes == []


async def test_an_unknown_parameter_is_never_answered_a_hit(clients: Clients, unique: str) -> None:
    app, code = App(), canonical_code(f"H{unique}")
    path = f"/api/v1/wells/{code}/production"
    await store(clients, "well", code, scope(path, query=b"granularity=month"))
    request = scope(path, query=b"granularity=month&extra=1")
    assert (await call(layer(app, clients, unique), request))[0] == 299
    assert "rate_limit" not in app.scopes[0].get("state", {})


async def test_a_stale_entry_goes_to_the_app_counted_once(clients: Clients, unique: str) -> None:
    app, code = App(), canonical_code(f"H{unique}")
    request = scope(f"/api/v1/wells/{code}/production")
    await store(clients, "well", code, request)
    assert clients.redis is not None
    await generations.bump(clients.redis, wells=[code], fields=[])
    status, _, _ = await call(layer(app, clients, unique), request)
    assert status == 299
    decision: Decision = app.scopes[0]["state"]["rate_limit"]
    assert (decision.allowed, decision.remaining) == (True, 4)


async def test_a_refused_request_goes_to_the_app_with_its_decision(
    clients: Clients, unique: str
) -> None:
    clients.rate_limit = (1, 60.0, 0)
    clients.reset()
    app, code = App(), canonical_code(f"H{unique}")
    request = scope(f"/api/v1/wells/{code}/production")
    await store(clients, "well", code, request)
    middleware = layer(app, clients, unique)
    assert (await call(middleware, dict(request)))[0] == 200
    assert (await call(middleware, dict(request)))[0] == 299
    assert app.scopes[0]["state"]["rate_limit"].allowed is False


async def test_a_script_redis_lost_is_loaded_again(clients: Clients, unique: str) -> None:
    assert clients.redis is not None
    await clients.redis.script_flush()
    app, code = App(), canonical_code(f"H{unique}")
    request = scope(f"/api/v1/wells/{code}/production")
    await store(clients, "well", code, request)
    middleware = layer(app, clients, unique)
    assert (await call(middleware, dict(request)))[0] == 299  # the app answers, uncounted
    assert "rate_limit" not in app.scopes[0].get("state", {})
    assert (await call(middleware, dict(request)))[0] == 200


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        pytest.param("/api/v1/wells/X/production", [(b"x-api-key", b"unknown")], id="unknown-key"),
        pytest.param(
            "/api/v1/wells/X/production",
            [(b"x-api-key", b"ingest-key-0123456789")],
            id="key-without-the-scope",
        ),
        pytest.param("/api/v1/wells/X", [], id="detail-route"),
        pytest.param("/api/v1/wells//production", [], id="empty-code"),
        pytest.param("/api/v1/wells/" + "x" * 129 + "/production", [], id="code-too-long"),
    ],
)
async def test_anything_else_goes_to_the_app_uncounted(
    clients: Clients, unique: str, path: str, headers: list[tuple[bytes, bytes]]
) -> None:
    app = App()
    request = scope(path)
    if headers:
        request["headers"] = headers
    assert (await call(layer(app, clients, unique), request))[0] == 299
    assert "rate_limit" not in app.scopes[0].get("state", {})


async def test_through_the_app_each_request_is_counted_once(
    clickhouse: ClickHouse, settings_env: dict[str, str], unique: str
) -> None:
    well = f"W{unique}"
    await insert(clickhouse, [Row(well, "2024-01", oil_bbl=5.0)])
    keys: list[dict[str, Any]] = [{"name": f"reader-{unique}", "key": READ_KEY, "scopes": ["read"]}]
    limited = settings(api_keys=keys, rate_limit_requests=3, rate_limit_period_seconds=60)
    url = f"/api/v1/wells/{well}/production"
    async with serve(limited) as api:
        answers = [await api.get(url) for _ in range(4)]
        metrics = (await api.get("/metrics")).text
    assert [a.headers.get("x-cache") for a in answers[:3]] == ["miss", "hit", "hit"]
    assert [a.headers["x-ratelimit-remaining"] for a in answers[:3]] == ["2", "1", "0"]
    assert answers[1].content == answers[0].content
    assert all(a.headers.get("x-request-id") for a in answers)
    assert answers[3].status_code == 429
    route = 'route="/api/v1/wells/{well_code:path}/production"'
    assert any(route in line and 'status="200"' in line for line in metrics.splitlines())


async def test_a_served_hit_matches_what_the_app_would_answer(
    clickhouse: ClickHouse, settings_env: dict[str, str], unique: str
) -> None:
    well = f"W{unique}"
    await insert(clickhouse, [Row(well, "2024-02", oil_bbl=7.0, gas_mcf=1.0)])
    url = f"/api/v1/wells/{well}/production?granularity=month"
    async with serve(settings()) as api:
        miss, hit = await api.get(url), await api.get(url)
    assert (miss.headers["x-cache"], hit.headers["x-cache"]) == ("miss", "hit")
    assert hit.content == miss.content
    same = ("etag", "content-type", "content-length", "x-ratelimit-limit", "cache-control")
    assert {h: hit.headers[h] for h in same} == {h: miss.headers[h] for h in same}
    assert hit.headers["cache-control"] == "private, no-store"


async def test_without_an_api_key_header_bearer_keys_are_served_too(
    clickhouse: ClickHouse, settings_env: dict[str, str], unique: str
) -> None:
    well = f"W{unique}"
    await insert(clickhouse, [Row(well, "2024-03", oil_bbl=1.0)])
    url = f"/api/v1/wells/{well}/production"
    async with serve(settings()) as api:
        await api.get(url)
        bearer = {"X-API-Key": "", "Authorization": f"Bearer {READ_KEY}"}
        hit = await api.get(url, headers=bearer)
        anonymous = await api.get(url, headers={"X-API-Key": ""})
    assert (hit.status_code, hit.headers["x-cache"]) == (200, "hit")
    assert anonymous.status_code == 401
