"""Cached reads: hits, ETag/304, and invalidation when new data for the well lands."""

import httpx
import pytest

from contracts.identifiers import canonical_code
from runtime import generations
from runtime import redis as redis_client
from runtime.clickhouse import ClickHouse
from tests.integration.gateway_support import READ_KEY, Row, insert, serve, settings

pytestmark = pytest.mark.integration


async def test_restatement_invalidates_the_cached_series(
    api: httpx.AsyncClient, clickhouse: ClickHouse, settings_env: dict[str, str], unique: str
) -> None:
    well, url = f"W{unique}", f"/api/v1/wells/W{unique}/production"
    await insert(clickhouse, [Row(well, "2024-01", field_code=f"F{unique}", oil_bbl=100.0)])
    first = await api.get(url)
    again = await api.get(url)
    assert (first.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit")
    assert again.content == first.content
    etag = first.headers["etag"]
    not_modified = await api.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""

    await insert(
        clickhouse, [Row(well, "2024-01", field_code=f"F{unique}", version=2, oil_bbl=150.0)]
    )
    # the store changed but nobody said so yet: the cached body is still served
    assert (await api.get(url)).json()["items"][0]["oil_bbl"] == 100.0
    redis = redis_client.connect(settings_env["WELLSTREAM_REDIS_URL"])
    try:
        await generations.bump(
            redis, wells=[canonical_code(well)], fields=[canonical_code(f"F{unique}")]
        )
    finally:
        await redis.aclose()
    fresh = await api.get(url, headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert fresh.headers["x-cache"] == "miss"
    assert fresh.json()["items"][0]["oil_bbl"] == 150.0
    assert fresh.headers["etag"] != etag


async def test_an_unknown_parameter_cannot_plant_an_entry_for_another_key(
    clickhouse: ClickHouse, settings_env: dict[str, str], unique: str
) -> None:
    """The one parameter ``from=2020-01&granularity`` (value ``month``) once had the key
    of ``from=2020-01`` with ``granularity=month``: its answer (the whole series, the
    parameter being ignored) was served to the next reader as a hit."""
    well = f"W{unique}"
    await insert(clickhouse, [Row(well, "2019-12", oil_bbl=1.0), Row(well, "2020-01", oil_bbl=2.0)])
    victim_key = "gateway-victim-key-0123456789"
    keys = [
        {"name": f"attacker-{unique}", "key": READ_KEY, "scopes": ["read"]},
        {"name": f"victim-{unique}", "key": victim_key, "scopes": ["read"]},
    ]
    url = f"/api/v1/wells/{well}/production"
    async with serve(settings(api_keys=keys)) as api:
        planted = await api.get(f"{url}?from%3D2020-01%26granularity=month")
        again = await api.get(f"{url}?from%3D2020-01%26granularity=month")
        victim = await api.get(
            f"{url}?from=2020-01&granularity=month", headers={"X-API-Key": victim_key}
        )
    for refused in (planted, again):
        assert refused.status_code == 400
        assert refused.json()["details"][0]["field"] == "query.from=2020-01&granularity"
        assert "x-cache" not in refused.headers
    assert (victim.status_code, victim.headers["x-cache"]) == (200, "miss")
    assert [item["period"] for item in victim.json()["items"]] == ["2020-01"]


async def test_a_body_over_the_entry_cap_is_served_not_stored(
    clickhouse: ClickHouse, settings_env: dict[str, str], unique: str
) -> None:
    well = f"W{unique}"
    await insert(clickhouse, [Row(well, "2024-01", oil_bbl=1.0)])
    url = f"/api/v1/wells/{well}/production"
    async with serve(settings(cache_entry_max_bytes=64)) as api:
        first, second = await api.get(url), await api.get(url)
    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "miss")
    assert second.content == first.content
    assert len(first.content) > 64


async def test_uncached_routes_still_answer_if_none_match(api: httpx.AsyncClient) -> None:
    first = await api.get("/api/v1/wells?limit=1")
    assert first.status_code == 200
    second = await api.get(
        "/api/v1/wells?limit=1", headers={"If-None-Match": first.headers["etag"]}
    )
    assert second.status_code == 304


async def test_ready_checks_the_request_path(api: httpx.AsyncClient) -> None:
    response = await api.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"clickhouse": "ok"}
