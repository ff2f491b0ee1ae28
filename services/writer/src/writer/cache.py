"""Cache invalidation: after an insert, the generations of the wells and fields it
touched are bumped in Redis (``runtime.generations``), so the gateway's read cache
never serves a value older than the data.

The insert is already durable when this runs, so a Redis failure must not fail the
batch (that would insert it again) nor hold it up: the bump is skipped after a short
timeout, logged once per outage, counted, and the wells and fields it missed are
bumped with the next bump that reaches Redis. Until then the gateway's cache TTL
bounds how stale a read can be.
"""

import asyncio
import logging
from collections.abc import Iterable
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

from runtime import generations
from writer import metrics

log = logging.getLogger(__name__)

#: Beyond this many missed wells and fields, keep only the store-wide generation
#: (always bumped): memory stays bounded through a long outage.
MAX_PENDING: Final = 100_000


class Invalidation:
    def __init__(self, redis: Redis, timeout: float = 1.0) -> None:
        self._redis = redis
        self._timeout = timeout
        self._wells: set[str] = set()
        self._fields: set[str] = set()
        self._failing = False

    @property
    def pending(self) -> int:
        return len(self._wells) + len(self._fields)

    async def bump(self, wells: Iterable[str], fields: Iterable[str]) -> bool:
        """Bump these (and any missed before); False when Redis could not be reached."""
        self._wells.update(wells)
        self._fields.update(fields)
        try:
            await asyncio.wait_for(
                generations.bump(self._redis, wells=self._wells, fields=self._fields),
                self._timeout,
            )
        except (RedisError, OSError, TimeoutError) as exc:
            self._failed(exc)
            return False
        if self._failing:
            log.info("cache invalidation reaches Redis again")
        self._failing = False
        self._wells.clear()
        self._fields.clear()
        metrics.CACHE_BUMP_PENDING.set(0)
        return True

    def _failed(self, exc: BaseException) -> None:
        metrics.CACHE_BUMP_FAILURES.inc()
        if not self._failing:
            log.warning("cache invalidation skipped, Redis unreachable: %r", exc)
        self._failing = True
        if self.pending > MAX_PENDING:
            self._wells.clear()
            self._fields.clear()
        metrics.CACHE_BUMP_PENDING.set(self.pending)
