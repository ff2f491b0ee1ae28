"""Data generations: counters in Redis bumped whenever new data for a well or a field
lands, so readers can key caches on them and never serve a value older than the data.

The writer calls :func:`bump` after an insert succeeded; the gateway reads the
counters with :func:`current` and puts them in its cache keys. A counter only grows,
so a cache entry keyed on an old generation is simply never read again (and expires).
"""

import uuid
from collections.abc import Iterable
from typing import Literal

from redis.asyncio import Redis

Kind = Literal["well", "field", "all"]

PREFIX = "wellstream:gen"


def key(kind: Kind, code: str = "") -> str:
    return f"{PREFIX}:{kind}:{code}" if kind != "all" else f"{PREFIX}:all"


async def bump(redis: Redis, *, wells: Iterable[str] = (), fields: Iterable[str] = ()) -> None:
    """Mark new data for these wells and fields (and for the store as a whole)."""
    names = {key("well", w) for w in wells} | {key("field", f) for f in fields if f}
    names.add(key("all"))
    async with redis.pipeline(transaction=False) as pipe:
        for name in sorted(names):
            pipe.incr(name)
        await pipe.execute()


def shares_key(reader: str) -> str:
    """The generation of the shares granted to ``reader``."""
    return f"{PREFIX}:shares:{reader}"


async def bump_shares(redis: Redis, reader: str) -> None:
    """Mark the shares granted to ``reader`` (a ``gateway.visibility.Viewer.tag``)
    changed: a new random value, never one seen before (a counter would start again
    after Redis restarts, and meet a value a reader still keeps)."""
    await redis.set(shares_key(reader), uuid.uuid4().hex)


async def current(redis: Redis, *names: str) -> list[int]:
    """The generations of ``names`` (keys from :func:`key`); 0 for one never bumped."""
    values = await redis.mget(names)
    return [int(v) if v is not None else 0 for v in values]
