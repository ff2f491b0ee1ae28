"""Clients the lifespan builds and the routes use."""

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from faststream.kafka import KafkaBroker
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.cache import Cache
from gateway.queries import Queries
from gateway.visibility import GRANTS, Grant, Viewer
from runtime import generations
from runtime.auth import Principal, principal_of
from runtime.clickhouse import ClickHouse
from runtime.errors import RETRY_AFTER, ApiError
from runtime.ratelimit import RateLimiter

if TYPE_CHECKING:  # export's routes import these clients
    from gateway.export import Exports


def kafka_unavailable() -> ApiError:
    return ApiError(503, "Kafka is unavailable", headers={"Retry-After": RETRY_AFTER})


async def grants_of(ch: ClickHouse, organisation: str) -> tuple[Grant, ...]:
    """The shares granted to ``organisation``, as its ``Viewer`` holds them."""
    rows = await ch.rows(GRANTS, {"viewer": organisation})
    return tuple((owner, kind, code, first, last) for owner, kind, code, first, last in rows)


@dataclass
class Clients:
    """Filled in by the app's lifespan; one per app, so several apps share a process."""

    cache_ttl: int
    cache_max_bytes: int = 1_048_576
    # reads take turns over these; the first also serves health checks
    pool: list[ClickHouse] = field(default_factory=list)
    redis: Redis | None = None
    broker: KafkaBroker | None = None
    exports: "Exports | None" = None
    #: Requests per key, the period in seconds, requests per organisation.
    rate_limit: tuple[int, float, int] = (0, 60.0, 0)
    _limiter: RateLimiter | None = field(default=None, init=False)
    _turn: int = field(default=0, init=False)
    #: Each reader's shares and the generation they were read at (``granted``).
    _grants: dict[str, tuple[bytes, tuple[Grant, ...]]] = field(default_factory=dict, init=False)

    def _ch(self) -> ClickHouse:
        if not self.pool:
            raise ApiError(503, "the gateway is starting")
        return self.pool[0]

    def clickhouse(self) -> ClickHouse:
        """The first client of the pool: the shares' reads and changes."""
        return self._ch()

    def exporter(self) -> "Exports":
        if self.exports is None:
            raise ApiError(503, "the gateway is starting")
        return self.exports

    def queries(self, request: Request) -> Queries:
        """The reads of the caller of ``request`` (``viewer_of``), on the next client of
        the pool, so concurrent requests run in parallel."""
        viewer = viewer_of(request)
        self._ch()  # the same 503 before the lifespan fills the pool
        self._turn = (self._turn + 1) % len(self.pool)
        return Queries(self.pool[self._turn], viewer, self.granted)

    async def granted(self, viewer: Viewer) -> Viewer:
        """``viewer`` with the shares granted to it. Kept per reader while its shares
        generation in Redis stays (``gateway.shares`` changes it around every change, so
        every replica sees a change at once); read from ClickHouse when it moved, and on
        every read without Redis."""
        if viewer.platform:
            return viewer
        generation = await self._shares_generation(viewer)
        known = self._grants.get(viewer.tag)
        if generation is not None and known is not None and known[0] == generation:
            return replace(viewer, grants=known[1])
        grants = await grants_of(self._ch(), viewer.organisation)
        if generation is not None:
            self._grants[viewer.tag] = (generation, grants)
        return replace(viewer, grants=grants)

    async def _shares_generation(self, viewer: Viewer) -> bytes | None:
        if self.redis is None:
            return None
        try:
            found = await self.redis.get(generations.shares_key(viewer.tag))
        except (RedisError, OSError):
            return None
        return found.encode() if isinstance(found, str) else found or b"-"

    def cache(self) -> Cache | None:
        if self.redis is None or self.cache_ttl <= 0:
            return None
        return Cache(self.redis, self.cache_ttl, self.cache_max_bytes)

    def limiter(self) -> RateLimiter | None:
        limit, period, organisation_limit = self.rate_limit
        if self.redis is None or limit <= 0:
            return None
        if self._limiter is None:
            self._limiter = RateLimiter(
                self.redis,
                limit=limit,
                period_s=period,
                namespace="gateway",
                organisation_limit=organisation_limit,
            )
        return self._limiter

    def publisher(self) -> KafkaBroker:
        """The replay producer; 503 while Kafka is away (``app.connect_kafka`` keeps
        trying): reads never need it."""
        if self.broker is None:
            raise kafka_unavailable()
        return self.broker

    def reset(self) -> None:
        self._limiter = None

    async def ping_clickhouse(self) -> None:
        """Readiness: the request path works. Redis (cache, rate limits) and Kafka
        (replay only) are optional: reads go on without them."""
        await self._ch().ping()


def viewer(principal: Principal) -> Viewer:
    return Viewer(principal.organisation, principal.platform)


def viewer_of(request: Request) -> Viewer:
    """What the caller of ``request`` may see: its organisation's, or everything for the
    platform."""
    return viewer(principal_of(request))


def app_clients(request: Request) -> Clients:
    """The clients of the app serving ``request`` (``app.create_app`` keeps them)."""
    clients: Clients = request.app.state.clients
    return clients


AppClients = Annotated[Clients, Depends(app_clients)]
