"""Admin routes: dead letters with their reasons, and replay to the raw topic after a
fix upstream or in the rules."""

import asyncio
import base64
from typing import Annotated

import orjson
from aiokafka.errors import KafkaError
from fastapi import APIRouter, Query, Request, Response
from faststream.kafka import KafkaBroker

from contracts import SCHEMA_VERSION, topics
from gateway.cache import jsonb, respond
from gateway.config import GatewaySettings
from gateway.deps import Clients, kafka_unavailable
from gateway.metrics import REPLAYED
from gateway.models import DeadLetterItem, DeadLetterPage, ReplayRequest, ReplayResult
from gateway.params import Cursor, guard, invalid, time_after
from runtime.context import request_id_var
from runtime.errors import ApiError, error_responses


def original(item: DeadLetterItem) -> bytes:
    if item.payload is not None:
        return item.payload.encode("utf-8")
    return base64.b64decode(item.payload_base64 or "")


def message_key(body: bytes) -> bytes | None:
    """The well code, so a replayed record keeps its well's partition and order."""
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    code = decoded.get("well_code") if isinstance(decoded, dict) else None
    return str(code).encode() if code not in (None, "") else None


async def republish(broker: KafkaBroker, topic: str, items: list[DeadLetterItem]) -> None:
    """Each item's original message to ``topic``, keyed by its well, with this request's id."""
    headers = {
        topics.HEADER_CORRELATION_ID: request_id_var.get() or "",
        topics.HEADER_SCHEMA_VERSION: str(SCHEMA_VERSION),
    }

    async def publish(item: DeadLetterItem) -> None:
        data = original(item)
        # The time the record was first accepted: the replayed record keeps its version,
        # so a replay neither overrides a correction accepted since nor adds a version.
        accepted = (
            {topics.HEADER_ACCEPTED_AT: str(item.accepted_at_ms)}
            if item.accepted_at_ms is not None
            else {}
        )
        await broker.publish(
            data,
            topic=topic,
            key=message_key(data),
            headers={**headers, **accepted, "x-replayed-dead-letter": item.id},
        )

    await asyncio.gather(*(publish(item) for item in items))
    REPLAYED.inc(len(items))


def refuse_truncated(items: list[DeadLetterItem]) -> None:
    """409 when a dead letter's payload was cut: the original is not there to replay."""
    truncated = [item.id for item in items if item.payload_truncated]
    if truncated:
        details = [
            {"field": "body.ids", "code": "payload_truncated", "message": item_id}
            for item_id in truncated
        ]
        raise ApiError(409, "a truncated payload cannot be replayed", details=details)


def build_router(settings: GatewaySettings, clients: Clients) -> APIRouter:
    router = APIRouter(
        prefix="/api/v1/dead-letters",
        dependencies=guard(settings, clients, "admin"),
        tags=["admin"],
    )
    Limit = Annotated[int, Query(ge=1, le=settings.page_limit_max)]

    @router.get(
        "",
        response_model=DeadLetterPage,
        responses=error_responses(),
        summary="Rejected records with their reasons, newest first",
    )
    async def list_dead_letters(
        request: Request,
        stage: Annotated[str | None, Query(pattern="^(ingestor|validator|writer)$")] = None,
        error_code: Annotated[str | None, Query(max_length=64, examples=["unknown_unit"])] = None,
        limit: Limit = settings.page_limit_default,
        cursor_token: Cursor = None,
    ) -> Response:
        page = await clients.queries(request).dead_letters(
            limit=limit, stage=stage, code=error_code, after=time_after(cursor_token)
        )
        return respond(request, jsonb(page))

    @router.post(
        "/replay",
        response_model=ReplayResult,
        responses=error_responses(400, 401, 403, 409, 422, 429, 503),
        summary="Republish chosen dead letters' original messages to the raw topic",
    )
    async def replay(request: Request, body: ReplayRequest) -> ReplayResult:
        ids = sorted(set(body.ids))
        if len(ids) > settings.replay_max_ids:
            raise invalid("body.ids", f"at most {settings.replay_max_ids} ids per replay")
        broker = clients.publisher()  # 503 while Kafka is away, before any read
        page = await clients.queries(request).dead_letters(limit=len(ids), ids=ids)
        refuse_truncated(page.items)
        try:
            await republish(broker, settings.topic_raw, page.items)
        except KafkaError as exc:
            raise kafka_unavailable() from exc
        found = {item.id for item in page.items}
        return ReplayResult(replayed=sorted(found), missing=[i for i in ids if i not in found])

    return router
