"""Per-key rate limits in Redis, shared by every replica of a service.

GCRA (the generic cell rate algorithm, a sliding window without its bookkeeping): one
key per client holds the "theoretical arrival time" of its next request, updated by a
Lua script so concurrent replicas never race, with Redis's clock so replicas' clocks do
not matter. ``limit`` requests per ``period`` are allowed, in bursts of up to ``limit``;
a refused request learns exactly when to retry.
"""

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Request, Response
from pydantic import Field
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from runtime.errors import ApiError
from runtime.settings import Scope, Settings

log = logging.getLogger(__name__)

# KEYS: the counters a request counts on (its key's, its organisation's); ARGV: the
# period, then each counter's limit. Counted on every counter or on none: the request is
# refused by the first that is full. Returns {allowed (0/1), remaining, retry_after_ms,
# reset_ms, which counter decided (1-based)}.
_GCRA = """
local period = tonumber(ARGV[1])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local updates = {}
local result = nil
for i, name in ipairs(KEYS) do
  local interval = period / tonumber(ARGV[i + 1])
  local tat = tonumber(redis.call('GET', name) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval
  if new_tat - now > period then
    return {0, 0, math.ceil(new_tat - now - period), math.ceil(tat - now), i}
  end
  updates[i] = new_tat
  local remaining = math.floor((period - (new_tat - now)) / interval)
  if result == nil or remaining < result[2] then
    result = {1, remaining, 0, math.ceil(new_tat - now), i}
  end
end
for i, name in ipairs(KEYS) do
  -- at least 1 ms: with a tiny interval new_tat may round to now, and PX 0 is an error
  redis.call('SET', name, tostring(updates[i]), 'PX', math.max(1, math.ceil(updates[i] - now)))
end
return result
"""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_s: float
    reset_s: float

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_s)),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(self.retry_after_s)))
        return headers


class RateLimiter:
    """``limit`` requests per ``period_s`` seconds for each key and, with an
    ``organisation_limit``, ``organisation_limit`` for all the keys of an organisation
    together."""

    def __init__(
        self,
        redis: Redis,
        *,
        limit: int,
        period_s: float,
        namespace: str = "ratelimit",
        organisation_limit: int = 0,
    ) -> None:
        if limit < 1 or period_s <= 0 or organisation_limit < 0:
            raise ValueError("a rate limit needs limit >= 1 and period_s > 0")
        self.limit = limit
        self.organisation_limit = organisation_limit
        self.period_ms = int(period_s * 1000)
        self.namespace = namespace
        self._script = redis.register_script(_GCRA)

    async def hit(self, key: str, organisation: str | None = None) -> Decision:
        """Count one request for ``key`` and its ``organisation`` (when allowed by both)
        and say whether it may proceed."""
        keys, args = self._keys(key, organisation), self._args(organisation)
        return self.decision(await self._script(keys=keys, args=args))

    def queue(self, pipe: Pipeline, key: str, organisation: str | None = None) -> None:
        """``hit`` as one command of ``pipe``; its reply goes to ``decision``. Queued by
        its digest alone: a pipeline holding scripts asks Redis whether it knows them
        first, a round trip of its own. Where Redis does not (it restarted), the pipeline
        fails with NOSCRIPT, and the next ``hit`` loads the script again."""
        keys = self._keys(key, organisation)
        pipe.evalsha(self._script.sha, len(keys), *keys, *self._args(organisation))

    async def load(self) -> None:
        """Make Redis know the script again (after NOSCRIPT from ``queue``)."""
        await self._script.registered_client.script_load(_GCRA)

    def decision(self, reply: list[int]) -> Decision:
        allowed, remaining, retry_ms, reset_ms, which = reply
        return Decision(
            allowed=bool(allowed),
            limit=self.limit if int(which) == 1 else self.organisation_limit,
            remaining=int(remaining),
            retry_after_s=int(retry_ms) / 1000,
            reset_s=int(reset_ms) / 1000,
        )

    def _keys(self, key: str, organisation: str | None) -> list[str]:
        keys = [f"wellstream:{self.namespace}:{key}"]
        if organisation is not None and self.organisation_limit:
            keys.append(f"wellstream:{self.namespace}:{organisation_key(organisation)}")
        return keys

    def _args(self, organisation: str | None) -> list[int]:
        if organisation is not None and self.organisation_limit:
            return [self.period_ms, self.limit, self.organisation_limit]
        return [self.period_ms, self.limit]


def principal_key(name: str) -> str:
    """What an authenticated key's requests are counted under."""
    return f"key:{name}"


def organisation_key(organisation: str) -> str:
    """What the requests of all the keys of ``organisation`` are counted under together."""
    return f"org:{organisation}"


def organisation_of(request: Request) -> str | None:
    """The authenticated caller's organisation (``runtime.auth`` sets it), else None."""
    principal = getattr(request.state, "principal", None)
    return None if principal is None else str(principal.organisation)


def client_key(request: Request) -> str:
    """The authenticated key's name (``runtime.auth`` sets it), else the client address."""
    principal = getattr(request.state, "principal", None)
    if principal is not None:
        return principal_key(principal.name)
    return f"ip:{request.client.host if request.client else 'unknown'}"


def limit_requests(
    limiter: RateLimiter,
    *,
    key: Callable[[Request], str] = client_key,
    fail_open: bool = True,
) -> Callable[[Request, Response], Awaitable[None]]:
    """A FastAPI dependency answering 429 with ``Retry-After`` beyond the limit. List it
    after the auth dependency so the limit applies per API key. With ``fail_open`` a
    Redis outage lets requests through (logged) rather than refusing every one."""

    async def dependency(request: Request, response: Response) -> None:
        # Counted already by an earlier layer (it leaves its decision): never count twice.
        decision: Decision | None = getattr(request.state, "rate_limit", None)
        try:
            if decision is None:
                decision = await limiter.hit(key(request), organisation_of(request))
        except (RedisError, OSError) as exc:
            if not fail_open:
                raise ApiError(
                    503, "rate limiter unavailable", headers={"Retry-After": "5"}
                ) from exc
            log.warning("rate limiter unavailable, letting the request through: %s", exc)
            return
        if not decision.allowed:
            period = f"{limiter.period_ms / 1000:g} s"
            raise ApiError(
                429,
                f"rate limit of {limiter.limit} requests per {period} exceeded",
                details={"retry_after_s": decision.retry_after_s},
                headers=decision.headers(),
            )
        response.headers.update(decision.headers())

    return dependency


RateLimitRequests = Annotated[
    int,
    Field(
        ge=0,
        description="Requests each API key may make per `rate_limit_period_seconds` (0: off).",
    ),
]


class RateLimitedSettings(Settings):
    """A service limiting each API key to ``rate_limit_requests`` per
    ``rate_limit_period_seconds`` (``runtime.ratelimit``, counted in Redis), and each
    organisation's keys together to ``organisation_limit``."""

    rate_limit_requests: RateLimitRequests = 600
    rate_limit_organisation_requests: int = Field(
        default=0,
        ge=0,
        description="Requests all the keys of one organisation may make together per "
        "`rate_limit_period_seconds` (0: ten times `rate_limit_requests`).",
    )
    rate_limit_period_seconds: float = Field(
        default=60.0, gt=0, description="The window of `rate_limit_requests`, in seconds."
    )
    rate_limit_fail_open: list[Scope] = Field(
        default_factory=lambda: list[Scope](["read", "ingest"]),
        description="Scopes whose routes let requests through, unlimited, while Redis "
        "(which counts them) is down; routes of the other scopes (admin) answer 503.",
    )

    @property
    def organisation_limit(self) -> int:
        """What an organisation's keys may make together per period."""
        return self.rate_limit_organisation_requests or 10 * self.rate_limit_requests
