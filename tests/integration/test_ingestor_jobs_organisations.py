"""An upload's or an import's progress is its organisation's: another organisation's key
gets 404, as for a job that does not exist (its counts, file name and rejected lines
stay with the owner), the ``platform`` scope reads every one."""

import uuid

import httpx
import pytest

from runtime.settings import ApiKey
from tests.integration.ingestor_support import finished, running, settings
from tests.integration.test_ingestor_imports import FakeApi, import_settings, serving

pytestmark = pytest.mark.integration

KEYS = {
    "acme": ("acme-ingest-key-0123456789", ["ingest"], "acme"),
    "globex": ("globex-ingest-key-0123456789", ["ingest"], "globex"),
    "platform": ("platform-key-0123456789ab", ["platform"], ""),
}


def keys() -> list[ApiKey]:
    return [
        ApiKey.model_validate(
            {"name": f"{who}-{uuid.uuid4().hex[:6]}", "key": k, "scopes": s, "organisation": o}
        )
        for who, (k, s, o) in KEYS.items()
    ]


def as_(who: str) -> dict[str, str]:
    return {"X-API-Key": KEYS[who][0]}


async def answers(client: httpx.AsyncClient, url: str) -> dict[str, int]:
    return {who: (await client.get(url, headers=as_(who))).status_code for who in KEYS}


async def test_an_uploads_progress_is_its_organisations(settings_env: dict[str, str]) -> None:
    async with running(settings(api_keys=keys())) as client:
        csv = b"well_code,production_period\nW1,2024-01\n,2024-02\n"
        posted = await client.post(
            "/api/v1/uploads", files={"file": ("acme.csv", csv)}, headers=as_("acme")
        )
        assert posted.status_code == 202, posted.text
        url = posted.json()["status_url"]
        client.headers.update(as_("acme"))
        job = await finished(client, url)
        assert (job["accepted"], job["rejected_lines"]) == (1, [3])
        assert await answers(client, url) == {"acme": 200, "globex": 404, "platform": 200}
        theirs = await client.get(url, headers=as_("globex"))
        missing = await client.get("/api/v1/uploads/no-such-upload", headers=as_("globex"))
        assert theirs.json()["message"].startswith("no upload")
        assert theirs.json()["error_code"] == missing.json()["error_code"]
        assert "acme.csv" not in theirs.text


async def test_an_imports_progress_is_its_organisations(settings_env: dict[str, str]) -> None:
    async with (
        serving(FakeApi()) as base_url,
        running(import_settings(base_url).model_copy(update={"api_keys": keys()})) as client,
    ):
        started = await client.post("/api/v1/imports", json={}, headers=as_("acme"))
        assert started.status_code == 202, started.text
        url = f"/api/v1/imports/{started.json()['id']}"
        client.headers.update(as_("acme"))
        assert (await finished(client, url))["status"] == "done"
        assert await answers(client, url) == {"acme": 200, "globex": 404, "platform": 200}
        resumed = await client.post(
            "/api/v1/imports", json={"resume": started.json()["id"]}, headers=as_("globex")
        )
        assert resumed.status_code == 404
