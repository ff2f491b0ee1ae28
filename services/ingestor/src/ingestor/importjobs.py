"""Import jobs: run an external-API pull in the background, record each published page,
and resume a failed job from its first unpublished page."""

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ingestor.config import IngestorSettings
from ingestor.imports import ExternalApi, next_page, page_items, page_records
from ingestor.jobs import Background, JobStatus, JobStore, job_for, now, owner_of, tally_of
from ingestor.publish import KafkaUnavailable, Publisher
from ingestor.quotas import Lease, Quota
from runtime.auth import principal_of
from runtime.context import request_id_var
from runtime.errors import ApiError, error_responses

log = logging.getLogger(__name__)

Status = Literal["running", "done", "failed"]


class ImportRequest(BaseModel):
    params: dict[str, str] = Field(
        default_factory=dict, description="Extra query parameters for the API, e.g. since"
    )
    page_size: int | None = Field(default=None, ge=1, le=10_000)
    # bounded: a page number past 64 bits could not even be answered in JSON (500)
    start_page: int = Field(default=1, ge=1, le=1_000_000_000)
    resume: str | None = Field(
        default=None, description="Id of a failed import to continue from its next page"
    )


class ImportStatus(JobStatus):
    id: str
    status: Status
    params: dict[str, str]
    page_size: int
    pages_done: int = 0
    next_page: int | None = Field(description="First page not yet published; null when done")


def status_of(job: dict[str, Any]) -> ImportStatus:
    following = job.get("next_page", 0)
    return ImportStatus.model_validate({**job, "next_page": following or None})


@dataclass
class Importer:
    settings: IngestorSettings
    api: ExternalApi | None
    publisher: Publisher
    store: JobStore
    background: Background
    quota: Quota

    async def run(self, job_id: str, lease: Lease) -> None:
        try:
            await self.pull(job_id, lease)
        finally:
            lease.release()  # a no-op when ``pull`` gave it back already

    async def pull(self, job_id: str, lease: Lease) -> None:
        """Publish the import's pages from its next one; the key's share of the quota is
        given back before the job's end is recorded, so a client that reads the end can
        start or resume another at once."""
        job = await self.store.get(job_id)
        assert job is not None
        assert self.api is not None
        page, size, params = job["next_page"], job["page_size"], job["params"]
        tally = tally_of(job)
        seen = job.get("records_seen", 0)
        try:
            while page:
                body = await self.api.page(page, size, params)
                records = page_records(body)
                items = await asyncio.to_thread(page_items, records, seen + 1, self.settings.limits)
                done = await self.publisher.publish_all(
                    [items], job_id, organisation=owner_of(job, self.settings.default_organisation)
                )
                tally.add(done)
                seen += len(records)
                page = next_page(body, page, size, len(records)) or 0
                pages_done = job.get("pages_done", 0) + 1
                job["pages_done"] = pages_done
                fields = {"next_page": page, "pages_done": pages_done, "records_seen": seen}
                await self.store.record(job_id, tally, **fields)
        except KafkaUnavailable as exc:
            lease.release()
            await self.store.fail(job_id, f"Kafka unavailable: {exc}")
        except asyncio.CancelledError:
            lease.release()
            await self.store.fail(job_id, f"the service stopped at page {page}; resume it")
            raise
        except Exception as exc:  # the job records the failure and can be resumed
            lease.release()
            log.warning("import %s stopped at page %s: %r", job_id, page, exc)
            await self.store.fail(job_id, f"page {page}: {type(exc).__name__}: {exc}")
        else:
            lease.release()
            await self.store.update(job_id, {"status": "done", "finished_at": now()})

    async def start(self, request: ImportRequest, key: str, organisation: str) -> str:
        if self.api is None:
            raise ApiError(503, "imports are not configured: set WELLSTREAM_API_BASE_URL")
        lease = self.quota.acquire(key, organisation)
        try:
            job_id = await self._job(request, organisation)
        except BaseException:
            lease.release()
            raise
        self.background.start(self.run(job_id, lease), f"import-{job_id}")
        return job_id

    async def _job(self, request: ImportRequest, organisation: str) -> str:
        """The import to run: a new one, or a failed (or abandoned) one resumed."""
        if request.resume is not None:
            job_id = request.resume
            await self._claim(job_id, organisation)
        else:
            job_id = await self.store.create(
                {
                    "status": "running",
                    "params": request.params,
                    "page_size": request.page_size or self.settings.import_page_size,
                    "next_page": request.start_page,
                    "request_id": request_id_var.get(),
                    "organisation": organisation,
                }
            )
        return job_id

    async def _claim(self, job_id: str, organisation: str) -> None:
        """Take over a failed import, or a running one whose runner went silent (its
        replica died): atomically, so two resumes never run the same import twice. Only
        its organisation resumes it."""
        job = await self.store.get(job_id)
        if job is None or owner_of(job, self.settings.default_organisation) != organisation:
            raise ApiError(404, f"no import {job_id!r}")
        silent = time.time() - datetime.fromisoformat(job["updated_at"]).timestamp()
        stale = job["status"] == "running" and silent > self.settings.import_stale_seconds
        if job["status"] != "failed" and not stale:
            raise ApiError(409, f"import {job_id!r} is {job['status']}; only a failed one resumes")
        if not await self.store.transition(job_id, job["status"], "running"):
            raise ApiError(409, f"import {job_id!r} was resumed meanwhile")
        await self.store.clear(job_id, "error", "finished_at")


def imports_router(importer: Importer) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["intake"])

    @router.post(
        "/imports",
        status_code=202,
        summary="Pull from the external production API",
        responses=error_responses(
            400,
            401,
            403,
            404,
            409,
            422,
            429,
            503,
            s400="The body is not JSON",
            s404="No import to resume by that id",
            s409="The import to resume is not failed, or was resumed meanwhile",
            s429="The key has as many imports running, or requests, as it may",
            s503="Imports are not configured, or Kafka or Redis is unavailable",
        ),
    )
    async def post_import(body: ImportRequest, request: Request) -> ImportStatus:
        """Starts (or, with ``resume``, continues) an import in the background."""
        principal = principal_of(request)
        job_id = await importer.start(body, principal.name, principal.organisation)
        job = await importer.store.get(job_id)
        assert job is not None
        return status_of(job)

    @router.get(
        "/imports/{import_id}",
        summary="Progress and counts of an import",
        responses=error_responses(401, 403, 404, 429, 503),
    )
    async def get_import(import_id: str, request: Request) -> ImportStatus:
        default = importer.settings.default_organisation
        return status_of(await job_for(importer.store, import_id, request, default, "import"))

    return router
