"""Organisations over every route of the gateway: each caller reads its organisation's
records and what is shared with it, the platform reads everything.

The routes are taken from the app itself: a route without a recipe here fails the test,
so a new route cannot reach the data unchecked.
"""

import csv
import io
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from contracts.identifiers import canonical_code
from gateway import known, visibility
from gateway.visibility import narrowed
from runtime.clickhouse import ClickHouse
from tests.integration.gateway_support import (
    Row,
    add_dead_letter,
    insert,
    serve,
    settings,
    until_kafka,
)

pytestmark = pytest.mark.integration


MONTHS = [f"2024-0{m}" for m in range(1, 9)]  # enough to fit a decline from February


def key(org: str, scope: str) -> str:
    return f"{org}-{scope}-key-0123456789"


def org_settings(orgs: tuple[str, ...], **overrides: Any) -> Any:
    """Settings with a read and an admin key for each of ``orgs``, and a platform key
    (``ops``)."""
    keys = [
        {"name": f"{org}-{scope}", "key": key(org, scope), "scopes": [scope], "organisation": org}
        for org in orgs
        for scope in ("read", "admin")
    ]
    keys.append({"name": "ops", "key": key("ops", "platform"), "scopes": ["platform"]})
    return settings(api_keys=keys, **overrides)


def auth(org: str, scope: str = "admin") -> dict[str, str]:
    return {"X-API-Key": key(org, "platform" if org == "ops" else scope)}


@dataclass(frozen=True)
class World:
    """``acme`` and ``globex`` both report well ``well`` in field ``field``, 100 and 7 bbl
    a month over eight months; ``initech`` nothing. Names are the test's own."""

    acme: str
    globex: str
    initech: str
    well: str
    field: str
    letter: str

    @property
    def orgs(self) -> tuple[str, str, str]:
        return self.acme, self.globex, self.initech


@pytest.fixture
async def world(clickhouse: ClickHouse, unique: str) -> World:
    w = World(
        f"acme{unique}",
        f"globex{unique}",
        f"initech{unique}",
        canonical_code(f"OW{unique}"),
        canonical_code(f"OF{unique}"),
        f"dl-{unique}",
    )
    rows = [Row(w.well, m, field_code=w.field, oil_bbl=100.0, organisation=w.acme) for m in MONTHS]
    rows += [Row(w.well, m, field_code=w.field, oil_bbl=7.0, organisation=w.globex) for m in MONTHS]
    await insert(clickhouse, rows)
    payload = f'{{"well_code": "{w.well}"}}'
    now = datetime.now(UTC)
    await add_dead_letter(clickhouse, w.letter, payload, "unknown_unit", now, w.acme)
    return w


@pytest.fixture
async def api(world: World, settings_env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(org_settings(world.orgs)) as client:
        yield client


Check = Callable[[httpx.Response], Any]
"""What a response shows of the world: compared between callers."""


def oil(response: httpx.Response) -> Any:
    if response.status_code == 404:
        return None
    body = response.json()
    if "items" in body:
        return [(i["period"], i["oil_bbl"]) for i in body["items"]]
    return body["cumulative"]["oil_bbl"]


def listed(response: httpx.Response) -> Any:
    return sorted(i.get("well_code") or i.get("id") for i in response.json()["items"])


def counted(response: httpx.Response) -> Any:
    body = response.json()
    return (body["records"], body["wells"], body["fields"], body["dead_letters"])


def exported(response: httpx.Response) -> Any:
    return sorted(
        (r["period"], float(r["oil_bbl"])) for r in csv.DictReader(io.StringIO(response.text))
    )


def records(response: httpx.Response) -> Any:
    if response.status_code == 404:
        return None
    return sorted(v["oil_bbl"] for i in response.json()["items"] for v in i["versions"])


def split(response: httpx.Response) -> Any:
    if response.status_code == 404:
        return None
    return {s["well_code"]: s["total"] for s in response.json()["series"]}


def reasons(response: httpx.Response) -> Any:
    return sum(i["count"] for i in response.json()["items"] if i["error_code"] == "unknown_unit")


def status(response: httpx.Response) -> Any:
    return response.status_code


def replayed(response: httpx.Response) -> Any:
    return response.json()["replayed"]


def declined(response: httpx.Response) -> Any:
    if response.status_code != 200:
        return response.status_code, response.json()["message"]
    return response.json()["cumulative_to_date"]


def curve(response: httpx.Response) -> Any:
    body = response.json()
    return (body["wells"], [(i["month"], i["mean"]) for i in body["items"]][:2])


def ranked(response: httpx.Response) -> Any:
    return {i["code"]: (i["volume"], i["share"]) for i in response.json()["items"]}


@dataclass(frozen=True)
class Recipe:
    """How to call a route about ``World``, and what its answer shows."""

    method: str
    url: Callable[[World], str]
    shows: Check
    body: Callable[[World], Any] | None = None


RECIPES: dict[tuple[str, str], Recipe] = {
    ("GET", "/api/v1/wells"): Recipe("GET", lambda w: f"/api/v1/wells?q={w.well}", listed),
    ("GET", "/api/v1/wells/{well_code:path}/production"): Recipe(
        "GET", lambda w: f"/api/v1/wells/{w.well}/production", oil
    ),
    ("GET", "/api/v1/wells/{well_code:path}"): Recipe(
        "GET", lambda w: f"/api/v1/wells/{w.well}", oil
    ),
    ("GET", "/api/v1/fields/{field_code:path}/production"): Recipe(
        "GET", lambda w: f"/api/v1/fields/{w.field}/production", oil
    ),
    ("GET", "/api/v1/fields/{field_code:path}"): Recipe(
        "GET", lambda w: f"/api/v1/fields/{w.field}", oil
    ),
    ("GET", "/api/v1/stats"): Recipe("GET", lambda w: "/api/v1/stats", counted),
    ("GET", "/api/v1/wells/{well_code:path}/records"): Recipe(
        "GET", lambda w: f"/api/v1/wells/{w.well}/records", records
    ),
    ("GET", "/api/v1/fields/{field_code:path}/contributions"): Recipe(
        "GET", lambda w: f"/api/v1/fields/{w.field}/contributions", split
    ),
    ("GET", "/api/v1/stats/dead-letters"): Recipe(
        "GET", lambda w: "/api/v1/stats/dead-letters", reasons
    ),
    # no records: the services' health, and uploads forwarded to the ingestor with the
    # caller's key (the ingestor owns what it posts by that key)
    ("GET", "/api/v1/pipeline"): Recipe("GET", lambda w: "/api/v1/pipeline", status),
    ("POST", "/api/v1/uploads"): Recipe("POST", lambda w: "/api/v1/uploads", status),
    ("GET", "/api/v1/uploads/{upload_id}"): Recipe("GET", lambda w: "/api/v1/uploads/x", status),
    ("GET", "/api/v1/wells/{well_code:path}/decline"): Recipe(
        "GET", lambda w: f"/api/v1/wells/{w.well}/decline?model=exponential", declined
    ),
    ("GET", "/api/v1/type-curves"): Recipe(
        "GET", lambda w: f"/api/v1/type-curves?field_code={w.field}&months=6", curve
    ),
    ("GET", "/api/v1/rankings"): Recipe(
        "GET",
        lambda w: "/api/v1/rankings?by=field&from=2024-01&to=2024-08&limit=1000",
        ranked,
    ),
    ("GET", "/api/v1/export"): Recipe(
        "GET", lambda w: f"/api/v1/export?well_code={w.well}", exported
    ),
    ("GET", "/api/v1/dead-letters"): Recipe("GET", lambda w: "/api/v1/dead-letters", listed),
    ("POST", "/api/v1/dead-letters/replay"): Recipe(
        "POST", lambda w: "/api/v1/dead-letters/replay", replayed, lambda w: {"ids": [w.letter]}
    ),
    ("GET", "/api/v1/shares"): Recipe("GET", lambda w: "/api/v1/shares", listed),
    ("POST", "/api/v1/shares"): Recipe(
        "POST",
        lambda w: "/api/v1/shares",
        lambda r: r.status_code,
        lambda w: {"organisation": "x", "well_code": w.well},
    ),
    ("DELETE", "/api/v1/shares/{share_id}"): Recipe(
        "DELETE", lambda w: "/api/v1/shares/none", lambda r: r.status_code
    ),
}


def api_routes(api: httpx.AsyncClient) -> set[tuple[str, str]]:
    app = api._transport.app  # type: ignore[attr-defined]
    return {
        (method, route.path)
        for route in known.api_routes(app.routes)
        if route.path.startswith("/api/")
        for method in route.methods or ()
    }


async def shown(
    api: httpx.AsyncClient, recipe: Recipe, world: World, headers: dict[str, str]
) -> Any:
    body = recipe.body(world) if recipe.body else None
    response = await api.request(recipe.method, recipe.url(world), json=body, headers=headers)
    assert response.status_code < 500, response.text
    if recipe.shows is not status:  # an answer with a body to compare
        assert response.status_code in (200, 404), (recipe.url(world), response.text)
    return recipe.shows(response)


async def test_every_route_has_a_recipe(api: httpx.AsyncClient) -> None:
    assert api_routes(api) == set(RECIPES)


async def test_no_route_shows_one_organisation_what_another_owns(
    api: httpx.AsyncClient, world: World, unique: str
) -> None:
    await until_kafka(api)
    data_routes = [
        r
        for r in RECIPES.values()
        if r.url(world).split("?")[0] != "/api/v1/shares"
        and r.method != "DELETE"
        and r.shows is not status
    ]
    seen: dict[str, list[Any]] = {}
    for org in (*world.orgs, "ops"):
        seen[org] = [await shown(api, recipe, world, auth(org)) for recipe in data_routes]
    acme, globex, initech, ops = (seen[org] for org in (*world.orgs, "ops"))
    months = MONTHS
    by_route = dict(
        zip(
            [r.url(world).split("?")[0] for r in data_routes],
            zip(acme, globex, initech, ops, strict=True),
            strict=True,
        )
    )
    series = by_route[f"/api/v1/wells/{world.well}/production"]
    assert series == (
        [(m, 100.0) for m in months],
        [(m, 7.0) for m in months],
        None,
        [(m, 107.0) for m in months],  # the platform sums both owners' records
    )
    assert by_route[f"/api/v1/fields/{world.field}"] == (800.0, 56.0, None, 856.0)
    declines = by_route[f"/api/v1/wells/{world.well}/decline"]
    assert (declines[0], declines[1], declines[2][0], declines[3]) == (800.0, 56.0, 404, 856.0)
    curves = by_route["/api/v1/type-curves"]
    assert curves == (
        (1, [(1, 100.0), (2, 100.0)]),
        (1, [(1, 7.0), (2, 7.0)]),
        (0, []),
        (1, [(1, 107.0), (2, 107.0)]),
    )
    ranks = by_route["/api/v1/rankings"]
    assert ranks[:3] == ({world.field: (800.0, 1.0)}, {world.field: (56.0, 1.0)}, {})
    assert ranks[3][world.field][0] == 856.0  # the platform ranks every owner's
    assert by_route["/api/v1/wells"] == ([world.well], [world.well], [], [world.well])
    assert by_route["/api/v1/export"][2] == []
    assert by_route["/api/v1/export"][0] == [(m, 100.0) for m in months]
    assert by_route["/api/v1/dead-letters/replay"] == ([world.letter], [], [], [world.letter])
    assert world.letter in by_route["/api/v1/dead-letters"][0]
    assert world.letter not in by_route["/api/v1/dead-letters"][1]
    assert by_route["/api/v1/dead-letters"][2] == []
    assert by_route[f"/api/v1/wells/{world.well}/records"] == (
        [100.0] * 8,
        [7.0] * 8,
        None,
        sorted([100.0] * 8 + [7.0] * 8),
    )
    contributions = by_route[f"/api/v1/fields/{world.field}/contributions"]
    assert contributions == ({world.well: 800.0}, {world.well: 56.0}, None, {world.well: 856.0})
    assert by_route["/api/v1/stats/dead-letters"][:3] == (1, 0, 0)
    assert by_route["/api/v1/stats"][:3] == ((8, 1, 1, 1), (8, 1, 1, 0), (0, 0, 0, 0))


async def read_as(api: httpx.AsyncClient, org: str, path: str) -> Any:
    response = await api.get(path, headers=auth(org, "read"))
    assert response.status_code in (200, 404), response.text
    return (
        oil(response)
        if "items" in response.json() or response.status_code == 404
        else response.json()
    )


async def test_a_share_lets_a_partner_read_what_it_names_until_revoked(
    api: httpx.AsyncClient, world: World
) -> None:
    series = f"/api/v1/fields/{world.field}/production"
    well_series = f"/api/v1/wells/{world.well}/production"
    assert await read_as(api, world.initech, series) is None
    share = {
        "organisation": world.initech,
        "field_code": world.field.lower(),
        "from": "2024-02",
        "to": "2024-02",
    }
    made = await api.post("/api/v1/shares", json=share, headers=auth(world.acme))
    assert made.status_code == 201, made.text
    created = made.json()
    assert (created["owner"], created["organisation"], created["field_code"]) == (
        world.acme,
        world.initech,
        world.field,
    )
    assert (created["from"], created["to"]) == ("2024-02", "2024-02")
    # only acme's records of the field, in the months shared: globex shared nothing
    for _ in range(2):  # the second answer from the cache
        assert await read_as(api, world.initech, series) == [("2024-02", 100.0)]
        assert await read_as(api, world.initech, well_series) == [("2024-02", 100.0)]
    stats = (await api.get("/api/v1/stats", headers=auth(world.initech, "read"))).json()
    assert (stats["records"], stats["wells"], stats["fields"]) == (1, 1, 1)
    assert await read_as(api, world.globex, series) == [(m, 7.0) for m in MONTHS]

    listed_ = (await api.get("/api/v1/shares", headers=auth(world.acme))).json()["items"]
    assert [s["id"] for s in listed_] == [created["id"]]
    assert (await api.get("/api/v1/shares", headers=auth(world.initech))).json()["items"] == []
    not_theirs = await api.delete(f"/api/v1/shares/{created['id']}", headers=auth(world.initech))
    assert not_theirs.status_code == 404

    revoked = await api.delete(f"/api/v1/shares/{created['id']}", headers=auth(world.acme))
    assert revoked.status_code == 204
    # at once: no cached answer outlives the share
    assert await read_as(api, world.initech, series) is None
    assert await read_as(api, world.initech, well_series) is None


async def test_a_well_shared_without_a_range_is_read_over_every_period(
    api: httpx.AsyncClient, world: World
) -> None:
    share = {"organisation": world.initech, "well_code": world.well}
    assert (
        await api.post("/api/v1/shares", json=share, headers=auth(world.globex))
    ).status_code == 201
    assert await read_as(api, world.initech, f"/api/v1/wells/{world.well}/production") == [
        (m, 7.0) for m in MONTHS
    ]


@pytest.mark.parametrize(
    ("body", "scope", "status"),
    [
        pytest.param({"well_code": "W", "field_code": "F"}, "admin", 422, id="both-codes"),
        pytest.param({}, "admin", 422, id="no-code"),
        pytest.param({"well_code": "W", "from": "2024-13"}, "admin", 422, id="bad-month"),
        pytest.param(
            {"well_code": "W", "from": "2024-05", "to": "2024-01"}, "admin", 422, id="reversed"
        ),
        pytest.param({"well_code": "W"}, "read", 403, id="read-scope"),
    ],
)
async def test_shares_refused(
    api: httpx.AsyncClient, world: World, body: dict[str, str], scope: str, status: int
) -> None:
    response = await api.post(
        "/api/v1/shares",
        json={"organisation": world.initech, **body},
        headers=auth(world.acme, scope),
    )
    assert response.status_code == status, response.text
    own = {"organisation": world.acme, "well_code": "W"}
    assert (await api.post("/api/v1/shares", json=own, headers=auth(world.acme))).status_code == 422


async def test_rate_limits_count_per_organisation_as_well_as_per_key(
    world: World, settings_env: dict[str, str]
) -> None:
    limits = {"rate_limit_requests": 100, "rate_limit_organisation_requests": 3}
    async with serve(org_settings(world.orgs, **limits)) as client:
        codes = [
            (await client.get("/api/v1/stats", headers=auth(world.acme, scope))).status_code
            for scope in ("read", "admin", "read", "admin")
        ]
        other = await client.get("/api/v1/stats", headers=auth(world.globex, "read"))
    assert codes == [200, 200, 200, 429]
    assert other.status_code == 200


async def test_the_row_policies_select_what_the_gateway_reads(
    api: httpx.AsyncClient, world: World, clickhouse: ClickHouse
) -> None:
    """Each policy's condition, run as a query's filter, selects for its reader the
    records the gateway's filter selects, shares whole and ranged included."""
    shares = [
        (world.acme, {"field_code": world.field, "from": "2024-03", "to": "2024-05"}),
        (world.globex, {"well_code": world.well}),
    ]
    for owner, body in shares:
        made = await api.post(
            "/api/v1/shares", json={"organisation": world.initech, **body}, headers=auth(owner)
        )
        assert made.status_code == 201, made.text
    clients = api._transport.app.state.clients  # type: ignore[attr-defined]
    ours = "well_code = {code:String}"
    for org in world.orgs:
        production = visibility.row_policies(org, "readers")[0]
        using = production.split(" USING ", 1)[1].rsplit(" AS permissive", 1)[0]
        policy = f"SELECT record_id FROM production WHERE ({using}) AND {ours}"
        by_policy = await clickhouse.rows(policy, {"code": world.well})
        viewer = await clients.granted(visibility.Viewer(org))
        read = f"SELECT record_id {visibility.visible('production')} AND {ours}"
        by_gateway = await clickhouse.rows(*narrowed(read, viewer, {"code": world.well}))
        assert sorted(by_policy) == sorted(by_gateway), org
        counts = {world.acme: 8, world.globex: 8, world.initech: 3 + 8}
        assert len(by_gateway) == counts[org], org
