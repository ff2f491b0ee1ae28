"""``POST /api/v1/uploads``: a CSV or JSON file, spooled to disk as it arrives, then
published in the background while ``GET /api/v1/uploads/{id}`` reports progress."""

import asyncio
import codecs
import logging
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from python_multipart.multipart import parse_options_header

from ingestor.config import IngestorSettings
from ingestor.files import FallbackDecoder, Format, Progress, detect_format, file_batches, head_of
from ingestor.jobs import Background, JobStatus, JobStore, job_for, now, owner_of
from ingestor.parsing import Item
from ingestor.publish import KafkaUnavailable, Publisher, Tally
from ingestor.quotas import Lease, Quota
from ingestor.spool import Received, SpoolLimits, receive
from runtime.auth import principal_of
from runtime.context import request_id_var
from runtime.errors import ApiError, error_responses

log = logging.getLogger(__name__)

Status = Literal["processing", "done", "failed"]


async def in_thread(batches: Iterator[list[Item]]) -> AsyncIterator[list[Item]]:
    """Read and parse in a worker thread, a batch at a time, so the event loop stays free."""
    while (batch := await asyncio.to_thread(next, batches, None)) is not None:
        yield batch


class UploadAccepted(BaseModel):
    id: str
    status: Status
    filename: str
    format: Format
    bytes_total: int
    status_url: str


class UploadStatus(JobStatus):
    id: str
    status: Status
    filename: str
    format: Format
    encoding: str | None = None
    bytes_total: int
    bytes_read: int = 0


def spool_dir(settings: IngestorSettings) -> Path:
    return Path(settings.upload_dir or tempfile.gettempdir())


@dataclass
class Uploads:
    settings: IngestorSettings
    publisher: Publisher
    store: JobStore
    background: Background
    quota: Quota

    async def process(
        self, job_id: str, received: Received, fmt: Format, encoding: str | None
    ) -> None:
        """Publish the file's records as records of the job's organisation, the
        uploader's."""
        job = await self.store.get(job_id)
        organisation = owner_of(job, self.settings.default_organisation)
        progress, decoder = Progress(), FallbackDecoder(encoding)
        batches = file_batches(
            received.path,
            fmt,
            limits=self.settings.limits,
            progress=progress,
            decoder=decoder,
        )

        async def report(tally: Tally) -> None:
            fields = {"bytes_read": progress.bytes_read, "encoding": decoder.encoding}
            await self.store.record(job_id, tally, **fields)

        try:
            tally = await self.publisher.publish_all(
                in_thread(batches), job_id, on_progress=report, organisation=organisation
            )
        except KafkaUnavailable as exc:
            await self.store.fail(job_id, f"Kafka unavailable: {exc}")
        except asyncio.CancelledError:
            await self.store.fail(job_id, "the service stopped during the upload; upload it again")
            raise
        except Exception as exc:  # the job records any failure; the service goes on
            log.exception("upload %s failed", job_id)
            await self.store.fail(job_id, f"{type(exc).__name__}: {exc}")
        else:
            done = {"status": "done", "bytes_read": received.size, "finished_at": now()}
            await self.store.record(job_id, tally, encoding=decoder.encoding, **done)
        finally:
            received.path.unlink(missing_ok=True)

    async def spool(self, request: Request) -> tuple[Received, Lease]:
        """Spool the request's file within its key's quotas (429, 413 beyond them); the
        lease is the caller's to release, or the job's once started."""
        settings = self.settings
        limits = SpoolLimits(
            settings.max_upload_bytes, settings.max_form_fields, settings.max_form_field_bytes
        )
        principal = principal_of(request)
        lease = self.quota.acquire(principal.name, principal.organisation)
        try:
            return await receive(request, spool_dir(settings), limits, lease.add), lease
        except BaseException:
            lease.release()
            raise

    async def run(
        self, job_id: str, received: Received, fmt: Format, encoding: str | None, lease: Lease
    ) -> None:
        try:
            await self.process(job_id, received, fmt, encoding)
        finally:
            lease.release()

    async def start(
        self, received: Received, fmt: Format, encoding: str | None, lease: Lease
    ) -> str:
        job = {
            "organisation": lease.organisation,
            "status": "processing",
            "filename": received.filename,
            "format": fmt,
            "bytes_total": received.size,
            "request_id": request_id_var.get(),
        }
        job_id = await self.store.create(job)
        work = self.run(job_id, received, fmt, encoding, lease)
        self.background.start(work, f"upload-{job_id}")
        return job_id


_REFUSALS = error_responses(
    400,
    401,
    403,
    413,
    415,
    422,
    429,
    503,
    s400="The form cannot be read, or names an unknown encoding",
    s413="The file, a form field or the key's disk quota is too large",
    s429="The key has as many uploads in progress, or requests, as it may",
    s503="Kafka, or Redis (which keeps the upload's progress), is unavailable",
)

_ASK = error_responses(401, 403, 404, 429, 503)

#: The form, documented (the route reads the stream itself, never the whole form).
_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "encoding": {"type": "string", "maxLength": 64},
                    },
                }
            }
        },
    }
}


def uploads_router(uploads: Uploads) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["intake"])

    @router.post(
        "/uploads",
        status_code=202,
        summary="Upload a CSV, JSON or NDJSON file",
        responses=_REFUSALS,
        openapi_extra=_FORM,
    )
    async def post_upload(
        request: Request,
        format: Annotated[Format | None, Query(description="Overrides the detected format")] = None,
        encoding: Annotated[str | None, Query(description="Overrides encoding detection")] = None,
    ) -> UploadAccepted:
        """Multipart form field ``file`` (or the file as the raw body). Returns at once
        with an id; the file is published in the background."""
        if encoding is not None:
            _check_encoding(encoding)
        received, lease = await uploads.spool(request)
        try:
            encoding = encoding or _declared_encoding(received)
            fmt = format or detect_format(
                received.filename, received.content_type, head_of(received.path)
            )
            job_id = await uploads.start(received, fmt, encoding, lease)
        except BaseException:
            received.path.unlink(missing_ok=True)
            lease.release()
            raise
        url = str(request.url_for("get_upload", upload_id=job_id).path)
        return UploadAccepted(
            id=job_id,
            status="processing",
            filename=received.filename,
            format=fmt,
            bytes_total=received.size,
            status_url=url,
        )

    @router.get("/uploads/{upload_id}", summary="Progress and counts of an upload", responses=_ASK)
    async def get_upload(upload_id: str, request: Request) -> UploadStatus:
        default = uploads.settings.default_organisation
        job = await job_for(uploads.store, upload_id, request, default, "upload")
        return UploadStatus.model_validate(job)

    return router


def _declared_encoding(received: Received) -> str | None:
    """The form's ``encoding`` field, else the file part's charset."""
    declared = received.fields.get("encoding")
    return (declared and _check_encoding(declared)) or _charset(received.content_type)


def _charset(content_type: str) -> str | None:
    _, options = parse_options_header(content_type)
    charset = options.get(b"charset")
    return _check_encoding(charset.decode("latin-1")) if charset else None


def _check_encoding(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        raise ApiError(400, f"unknown encoding {name!r}") from None
