"""Progress of background jobs (uploads, imports) in Redis, so any replica can report it.

A job is one Redis hash; its fields are strings, lists are stored as JSON. Jobs expire a
week after their last update.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Coroutine, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import Request
from pydantic import BaseModel
from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from ingestor.publish import Rejection, Tally
from runtime.auth import principal_of
from runtime.errors import ApiError

log = logging.getLogger(__name__)

TTL_S = 7 * 24 * 3600
_JSON_FIELDS = {"rejected_lines", "rejections", "params"}
_INT_FIELDS = {
    "accepted",
    "rejected",
    "bytes_total",
    "bytes_read",
    "pages_done",
    "next_page",
    "page_size",
    "records_seen",
}


_TRANSITION = """
if redis.call('HGET', KEYS[1], 'status') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'updated_at', ARGV[3])
return 1
"""


def now() -> str:
    return datetime.now(UTC).isoformat()


class JobStore:
    def __init__(self, redis: Redis, kind: str) -> None:
        self.redis = redis
        self.kind = kind
        self._transition = redis.register_script(_TRANSITION)

    def _key(self, job_id: str) -> str:
        return f"wellstream:ingestor:{self.kind}:{job_id}"

    async def create(self, fields: Mapping[str, Any]) -> str:
        job_id = uuid.uuid4().hex
        stamp = now()
        await self.update(job_id, {"id": job_id, "created_at": stamp, **fields})
        return job_id

    async def update(self, job_id: str, fields: Mapping[str, Any]) -> None:
        encoded: dict[FieldT, EncodableT] = {
            name: orjson.dumps(value).decode() if name in _JSON_FIELDS else str(value)
            for name, value in fields.items()
            if value is not None
        }
        encoded["updated_at"] = now()
        key = self._key(job_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=encoded)
            pipe.expire(key, TTL_S)
            await pipe.execute()

    async def transition(self, job_id: str, current: str, new: str) -> bool:
        """Set the status to ``new`` only if it still is ``current``."""
        moved = await self._transition(keys=[self._key(job_id)], args=[current, new, now()])
        return bool(moved)

    async def clear(self, job_id: str, *fields: str) -> None:
        await self.redis.hdel(self._key(job_id), *fields)

    async def record(self, job_id: str, tally: Tally, **fields: Any) -> None:
        await self.update(
            job_id,
            {
                "accepted": tally.accepted,
                "rejected": tally.rejected,
                "rejected_lines": tally.rejected_lines,
                "rejections": [r.model_dump() for r in tally.rejections],
                **fields,
            },
        )

    async def fail(self, job_id: str, error: str) -> None:
        """Uploads and imports end a failed job alike: its error, and when it stopped."""
        await self.update(job_id, {"status": "failed", "error": error, "finished_at": now()})

    async def get(self, job_id: str) -> dict[str, Any] | None:
        raw = await self.redis.hgetall(self._key(job_id))
        if not raw:
            return None
        job: dict[str, Any] = {}
        for name_raw, value_raw in raw.items():
            name, value = _text(name_raw), _text(value_raw)
            if name in _JSON_FIELDS:
                job[name] = orjson.loads(value)
            elif name in _INT_FIELDS:
                job[name] = int(value)
            else:
                job[name] = value
        return job


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Background:
    """The jobs running in this process, cancelled at shutdown."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


class JobStatus(BaseModel):
    """What every background job reports: its counts, failure and times."""

    accepted: int = 0
    rejected: int = 0
    rejected_lines: list[int] = []
    #: The first rejected records with their reasons (``MAX_EXPLAINED_REJECTS``).
    rejections: list[Rejection] = []
    error: str | None = None
    request_id: str | None = None
    created_at: str
    updated_at: str
    finished_at: str | None = None


def owner_of(job: dict[str, Any] | None, default_organisation: str) -> str:
    """The organisation a job publishes for: its poster's (a job stored before jobs had
    owners: the default organisation)."""
    return str((job or {}).get("organisation") or default_organisation)


def tally_of(job: dict[str, Any]) -> Tally:
    """The counts ``JobStore.record`` stored for a job (none yet: zero)."""
    return Tally(
        job.get("accepted", 0),
        job.get("rejected", 0),
        job.get("rejected_lines", []),
        [Rejection.model_validate(r) for r in job.get("rejections", [])],
    )


async def job_for(
    store: JobStore, job_id: str, request: Request, default_organisation: str, what: str
) -> dict[str, Any]:
    """The job ``job_id`` as the caller may see it: its own organisation's, or any with the
    ``platform`` scope. Another organisation's answers 404 as a missing one does: its
    existence is not the caller's to learn."""
    job = await store.get(job_id)
    caller = principal_of(request)
    if job is None or not (
        caller.platform or owner_of(job, default_organisation) == caller.organisation
    ):
        raise ApiError(404, f"no {what} {job_id!r}")
    return job
