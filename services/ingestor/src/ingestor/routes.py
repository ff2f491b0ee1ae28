"""HTTP intake: ``POST /api/v1/records`` (JSON array or NDJSON body)."""

import logging

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ingestor.config import IngestorSettings
from ingestor.publish import (
    MAX_EXPLAINED_REJECTS,
    MAX_LISTED_REJECTS,
    KafkaUnavailable,
    Publisher,
    Rejection,
    Tally,
)
from ingestor.streams import parsed, parser_for, refuse_lone_oversize, request_body
from runtime.auth import principal_of
from runtime.context import request_id_var
from runtime.errors import ApiError, error_responses

log = logging.getLogger(__name__)


class IntakeResult(BaseModel):
    """What Kafka acknowledged: accepted records on the raw topic, rejected ones as
    dead letters."""

    request_id: str
    accepted: int
    rejected: int
    rejected_lines: list[int] = Field(
        description="Line (NDJSON) or element position (JSON array) of each rejected "
        f"record, 1-based; the first {MAX_LISTED_REJECTS}."
    )
    rejections: list[Rejection] = Field(
        description=f"The first {MAX_EXPLAINED_REJECTS} rejected records' lines with their "
        "reasons, as in their dead letters."
    )


def unavailable(settings: IngestorSettings, exc: Exception) -> ApiError:
    log.warning("Kafka unavailable: %s", exc)
    return ApiError(
        503,
        "Kafka is unavailable; nothing in this request is reported as accepted, retry later",
        headers={"Retry-After": str(settings.retry_after_seconds)},
    )


def result(tally: Tally) -> IntakeResult:
    return IntakeResult(
        request_id=request_id_var.get() or "",
        accepted=tally.accepted,
        rejected=tally.rejected,
        rejected_lines=tally.rejected_lines,
        rejections=tally.rejections,
    )


#: The body, documented (the route parses the stream itself, record by record).
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": {"type": "object"}},
            },
            "application/x-ndjson": {
                "schema": {"type": "string", "description": "One JSON object a line"},
            },
        },
    }
}


def records_router(settings: IngestorSettings, publisher: Publisher) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["intake"])

    @router.post(
        "/records",
        status_code=202,
        summary="Publish a JSON array or NDJSON body of raw records",
        responses=error_responses(
            400,
            401,
            403,
            413,
            415,
            429,
            503,
            s413="The body, or its one record, is larger than the limit",
            s415="Not JSON or NDJSON",
            s503="Kafka is unavailable (see Retry-After)",
        ),
        openapi_extra=_BODY,
    )
    async def post_records(request: Request) -> IntakeResult:
        """Each record is published to the raw topic keyed by its well code; lines that
        are not JSON objects with a well code become dead letters. Answers once Kafka
        acknowledged every message."""
        limits = settings.limits
        parser = parser_for(request.headers.get("content-type"), limits)
        if parser is None:
            raise ApiError(415, "send application/json (an array) or application/x-ndjson")
        body = request_body(request, settings.max_body_bytes)
        batches = refuse_lone_oversize(parsed(body, parser), limits)
        try:
            tally = await publisher.publish_all(
                batches, request_id_var.get() or "", organisation=principal_of(request).organisation
            )
        except KafkaUnavailable as exc:
            raise unavailable(settings, exc) from None
        return result(tally)

    return router
