"""Property: over random organisations, records and shares (some revoked), every read
route answers each organisation exactly what it owns and what is shared with it, and
the platform everything: no record of another organisation is returned, counted, summed
or served from the cache. The expected answers come from a plain model of the rule."""

import asyncio
import csv
import io
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.identifiers import canonical_code
from runtime.clickhouse import ClickHouse, connect
from tests.conftest import Infra
from tests.integration.gateway_support import Row, add_dead_letter, insert, serve
from tests.integration.test_gateway_organisations import auth, org_settings

pytestmark = pytest.mark.integration

MONTHS = ("2024-01", "2024-02", "2024-03", "2024-04")
#: (owner, well, field, month): one record a natural key; its oil is drawn apart.
record = st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 1), st.integers(0, 3))
#: (owner, partner, a well (else a field), its code, first month, last month, revoked)
share = st.tuples(
    st.integers(0, 2),
    st.integers(1, 2),
    st.booleans(),
    st.integers(0, 2),
    st.one_of(st.none(), st.integers(0, 3)),
    st.one_of(st.none(), st.integers(0, 3)),
    st.booleans(),
)


@dataclass(frozen=True)
class Rec:
    org: str
    well: str
    field: str
    month: str
    oil: float


@dataclass(frozen=True)
class Grant:
    owner: str
    partner: str
    kind: str
    code: str
    first: str
    last: str


def visible(records: Iterable[Rec], viewer: str | None, grants: Iterable[Grant]) -> list[Rec]:
    """The model of the rule: the platform (None) sees all, an organisation its own and
    what a share names over its months."""

    def shared(r: Rec, g: Grant) -> bool:
        code = r.well if g.kind == "well" else r.field
        return (g.owner, g.partner, g.code) == (
            r.org,
            viewer,
            code,
        ) and g.first <= r.month <= g.last

    return [r for r in records if viewer in (None, r.org) or any(shared(r, g) for g in grants)]


def series(records: list[Rec]) -> dict[str, float]:
    sums: dict[str, float] = defaultdict(float)
    for r in records:
        sums[r.month] += r.oil
    return dict(sums)


async def answers(
    api: httpx.AsyncClient, viewer: str, tag: str, world: list[Rec]
) -> dict[str, object]:
    """What every read route shows ``viewer`` of this example's wells and fields."""
    headers = auth(viewer)
    got: dict[str, object] = {}
    wells = await api.get(f"/api/v1/wells?q={canonical_code(tag)}&limit=1000", headers=headers)
    got["wells"] = sorted(w["well_code"] for w in wells.json()["items"])
    for scope, code in {("wells", r.well) for r in world} | {("fields", r.field) for r in world}:
        one = await api.get(f"/api/v1/{scope}/{code}/production", headers=headers)
        got[f"{scope}/{code}"] = {i["period"]: i["oil_bbl"] for i in one.json().get("items", [])}
        detail = await api.get(f"/api/v1/{scope}/{code}", headers=headers)
        got[f"{scope}/{code}/total"] = (
            detail.json()["cumulative"]["oil_bbl"] if detail.status_code == 200 else None
        )
    exported = await api.get(f"/api/v1/export?field_code={code_of(tag, 'F0')}", headers=headers)
    got["export"] = sorted(
        (r["well_code"], r["period"], float(r["oil_bbl"]))
        for r in csv.DictReader(io.StringIO(exported.text))
    )
    letters = await api.get("/api/v1/dead-letters?limit=1000", headers=headers)
    got["letters"] = sorted(i["id"] for i in letters.json()["items"] if i["id"].startswith(tag))
    if viewer != "ops":  # the platform's answers count other tests' records too
        ranked = await api.get(
            f"/api/v1/rankings?by=well&from={MONTHS[0]}&to={MONTHS[-1]}&limit=1000",
            headers=headers,
        )
        got["ranking"] = {i["code"]: i["volume"] for i in ranked.json()["items"]}
        stats = (await api.get("/api/v1/stats", headers=headers)).json()
        got["stats"] = (stats["records"], stats["wells"], stats["fields"], stats["dead_letters"])
    return got


def expected(seen: list[Rec], viewer: str, tag: str, world: list[Rec]) -> dict[str, object]:
    want: dict[str, object] = {"wells": sorted({r.well for r in seen})}
    for scope, code in {("wells", r.well) for r in world} | {("fields", r.field) for r in world}:
        mine = [r for r in seen if (r.well if scope == "wells" else r.field) == code]
        want[f"{scope}/{code}"] = series(mine)
        want[f"{scope}/{code}/total"] = sum(r.oil for r in mine) if mine else None
    # one row a record, at its latest version: two owners of one well-month, two rows
    want["export"] = sorted((r.well, r.month, r.oil) for r in seen if r.field == code_of(tag, "F0"))
    orgs = [f"{tag}o{i}" for i in range(3)] if viewer == "ops" else [viewer]
    want["letters"] = sorted(f"{tag}-{org}" for org in orgs)
    if viewer != "ops":
        fields = {r.field for r in seen}
        wells = {r.well for r in seen}
        want["ranking"] = {w: sum(r.oil for r in seen if r.well == w) for w in wells}
        want["stats"] = (len(seen), len({r.well for r in seen}), len(fields), 1)
    return want


def code_of(tag: str, name: str) -> str:
    return canonical_code(f"{tag}{name}")


def build(
    tag: str, drawn: list[tuple[int, int, int, int]], shares: list[tuple[int, ...]]
) -> tuple[list[Rec], list[tuple[Grant, bool]]]:
    orgs = [f"{tag}o{i}" for i in range(3)]
    scale = (1.0, 100.0, 10_000.0)  # each owner's oil apart, so a leak changes a sum
    world = [
        Rec(orgs[o], code_of(tag, f"W{w}"), code_of(tag, f"F{f}"), MONTHS[m], scale[o] * (i + 1))
        for i, (o, w, f, m) in enumerate(drawn)
    ]
    grants = []
    for owner, step, is_well, code, first, last, revoked in shares:
        low, high = sorted((0 if first is None else first, 3 if last is None else last))
        name = code_of(tag, f"W{code}" if is_well else f"F{code % 2}")
        grant = Grant(
            orgs[owner],
            orgs[(owner + step) % 3],
            "well" if is_well else "field",
            name,
            MONTHS[low],
            MONTHS[high],
        )
        grants.append((grant, bool(revoked)))
    return world, grants


async def check(api: httpx.AsyncClient, tag: str, world: list[Rec], grants: list[Grant]) -> int:
    """Every route as every organisation and the platform, twice (the second from the
    cache); the number of answers compared."""
    compared = 0
    for _ in range(2):
        for viewer in (*sorted({f"{tag}o{i}" for i in range(3)}), "ops"):
            seen = visible(world, None if viewer == "ops" else viewer, grants)
            got = await answers(api, viewer, tag, world)
            assert got == expected(seen, viewer, tag, world), viewer
            compared += len(got)
    return compared


async def scenario(
    ch: ClickHouse, drawn: list[tuple[int, int, int, int]], shares: list[tuple[int, ...]]
) -> int:
    tag = "T" + uuid.uuid4().hex[:8].upper()
    world, grants = build(tag, drawn, shares)
    rows = [
        Row(r.well, r.month, field_code=r.field, oil_bbl=r.oil, organisation=r.org) for r in world
    ]
    await insert(ch, rows)
    orgs = tuple(f"{tag}o{i}" for i in range(3))
    for org in orgs:
        await add_dead_letter(ch, f"{tag}-{org}", "{}", "unknown_unit", organisation=org)
    async with serve(org_settings(orgs)) as api:
        ids = []
        for grant, _ in grants:
            body = {
                "organisation": grant.partner,
                f"{grant.kind}_code": grant.code,
                "from": grant.first,
                "to": grant.last,
            }
            made = await api.post("/api/v1/shares", json=body, headers=auth(grant.owner))
            assert made.status_code == 201, made.text
            ids.append(made.json()["id"])
        compared = await check(api, tag, world, [g for g, _ in grants])
        for (grant, revoked), id_ in zip(grants, ids, strict=True):
            if revoked:
                gone = await api.delete(f"/api/v1/shares/{id_}", headers=auth(grant.owner))
                assert gone.status_code == 204
        return compared + await check(api, tag, world, [g for g, revoked in grants if not revoked])


ANSWERS: list[int] = []


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    drawn=st.lists(record, min_size=1, max_size=20, unique=True),
    shares=st.lists(share, max_size=4),
)
def test_no_organisation_reads_what_is_not_its_own_or_shared(
    infra: Infra,
    clickhouse: ClickHouse,
    settings_env: dict[str, str],
    drawn: list[tuple[int, int, int, int]],
    shares: list[tuple[int, ...]],
) -> None:
    ch = ClickHouse(connect(infra.clickhouse))
    try:
        ANSWERS.append(asyncio.run(scenario(ch, drawn, shares)))
    finally:
        ch.close()
