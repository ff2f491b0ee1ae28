"""Well reference data: kept in Redis (one JSON value per well), read through a cache.

A lookup answers from the in-process cache when it can and asks Redis for the rest in
one ``MGET``. While Redis is down, lookups are retried with backoff and then raise, so
the batch is redelivered later: records wait, they are never lost, and never go on
unenriched without a flag. Wells Redis does not know are cached too (as unknown), so a
well loaded later is seen once its cache entry expires. The cache holds at most
``max_entries`` wells and about ``max_bytes`` bytes (``WELLSTREAM_REFERENCE_CACHE_SIZE``,
``WELLSTREAM_REFERENCE_CACHE_BYTES``), the oldest dropped first.
"""

import csv
import io
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential_jitter,
)

from validator.enrich import WellRef

#: Redis away or slow: retried, then raised (the batch is redelivered).
TRANSIENT = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError, OSError)


class ReferenceStore:
    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "wellstream:ref:well:",
        ttl: float = 300.0,
        max_entries: int = 100_000,
        max_bytes: int = 64 * 1024 * 1024,
        retry_for: float = 30.0,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.retry_for = retry_for
        #: well -> (expires, data, its size in bytes, about)
        self._cache: dict[str, tuple[float, WellRef | None, int]] = {}
        self.cached_bytes = 0

    async def lookup(self, wells: Iterable[str]) -> dict[str, WellRef | None]:
        """Reference data of each canonical well code (None: not in the reference data)."""
        now = time.monotonic()
        found: dict[str, WellRef | None] = {}
        missing: list[str] = []
        for well in wells:
            entry = self._cache.get(well)
            if entry is not None and entry[0] > now:
                found[well] = entry[1]
            else:
                missing.append(well)
        if missing:
            values = await self._retrying(self.redis.mget, [self.prefix + w for w in missing])
            expires = now + self.ttl
            for well, value in zip(missing, values, strict=True):
                ref = WellRef.model_validate_json(value) if value else None
                found[well] = ref
                self._remember(well, expires, ref)
        return found

    def _remember(self, well: str, expires: float, ref: WellRef | None) -> None:
        size = _size(well, ref)
        self._forget(well)
        if size > self.max_bytes:
            return  # asked of Redis each time rather than over the bound
        # Oldest entries first (dicts keep insertion order): a tenth of the entries when
        # they are too many, down to 90 % of the bytes when they are too large.
        entries = max(1, self.max_entries // 10) if len(self._cache) >= self.max_entries else 0
        full = self.cached_bytes + size > self.max_bytes
        room = self.max_bytes * 9 // 10 - size if full else self.max_bytes
        while self._cache and (entries > 0 or self.cached_bytes > room):
            self._forget(next(iter(self._cache)))
            entries -= 1
        self._cache[well] = (expires, ref, size)
        self.cached_bytes += size

    def _forget(self, well: str) -> None:
        entry = self._cache.pop(well, None)
        if entry is not None:
            self.cached_bytes -= entry[2]

    async def load(self, wells: Iterable[WellRef], chunk: int = 1_000) -> int:
        """Store (replace) each well's reference data; returns how many were written."""
        written = 0
        batch: dict[str, str] = {}
        for well in wells:
            batch[self.prefix + well.key] = well.model_dump_json()
            if len(batch) >= chunk:
                written += await self._write(batch)
                batch = {}
        if batch:
            written += await self._write(batch)
        self._cache.clear()
        self.cached_bytes = 0
        return written

    async def _write(self, batch: dict[str, str]) -> int:
        await self._retrying(self.redis.mset, batch)
        return len(batch)

    async def _retrying(self, fn: Any, *args: Any) -> Any:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TRANSIENT),
            wait=wait_exponential_jitter(multiplier=0.1, max=5.0, jitter=0.1),
            stop=stop_after_delay(self.retry_for),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await fn(*args)
        raise AssertionError("unreachable")  # pragma: no cover


#: What a cache entry costs besides its texts: the model, its dict, the tuple, the slot.
_ENTRY_BYTES = 1_000


def _size(well: str, ref: WellRef | None) -> int:
    """About how many bytes an entry holds."""
    texts = [well, *(v for v in (ref.__dict__.values() if ref else ()) if isinstance(v, str))]
    return _ENTRY_BYTES + sum(map(sys.getsizeof, texts))


def read_wells(path: Path) -> list[WellRef]:
    """Wells from a CSV file (header row of ``WellRef`` field names) or a JSON file (a
    list of objects, or ``{"wells": [...]}``). Raises ValueError naming the bad row."""
    text = path.read_bytes().decode("utf-8-sig")
    rows: list[Any]
    if path.suffix.lower() == ".json":
        data = json.loads(text)
        rows = data.get("wells", []) if isinstance(data, dict) else data
    else:
        rows = [
            {k: v if v != "" else None for k, v in row.items()}
            for row in csv.DictReader(io.StringIO(text))
        ]
    wells = []
    for number, row in enumerate(rows, start=1):
        try:
            wells.append(WellRef.model_validate(row))
        except ValidationError as exc:
            raise ValueError(f"{path}: row {number}: {exc.errors()[0]['msg']}") from None
    return wells
