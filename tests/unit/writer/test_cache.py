"""Cache invalidation: bumps after inserts, and a Redis outage that loses no bump."""

from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from runtime import generations
from writer.cache import Invalidation


class FakePipeline:
    def __init__(self, redis: "FakeRedis") -> None:
        self.redis = redis
        self.names: list[str] = []

    async def __aenter__(self) -> "FakePipeline":
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def incr(self, name: str) -> None:
        self.names.append(name)

    async def execute(self) -> None:
        if self.redis.down:
            raise RedisConnectionError("Connection refused")
        for name in self.names:
            self.redis.counters[name] = self.redis.counters.get(name, 0) + 1


class FakeRedis:
    def __init__(self) -> None:
        self.counters: dict[str, int] = {}
        self.down = False

    def pipeline(self, transaction: bool = True) -> FakePipeline:
        return FakePipeline(self)


async def test_a_bump_reaches_every_well_and_field_and_the_store() -> None:
    redis = FakeRedis()

    assert await Invalidation(cast(Redis, redis)).bump({"W1", "W2"}, {"F1"})

    assert redis.counters == {
        generations.key("well", "W1"): 1,
        generations.key("well", "W2"): 1,
        generations.key("field", "F1"): 1,
        generations.key("all"): 1,
    }


async def test_bumps_missed_while_redis_is_down_are_made_when_it_is_back() -> None:
    redis = FakeRedis()
    invalidation = Invalidation(cast(Redis, redis))
    redis.down = True

    missed: list[Any] = [await invalidation.bump({"W1"}, {"F1"}), invalidation.pending]
    redis.down = False
    back = await invalidation.bump({"W2"}, set())

    assert missed == [False, 2]
    assert back is True
    assert invalidation.pending == 0
    assert redis.counters[generations.key("well", "W1")] == 1
    assert redis.counters[generations.key("well", "W2")] == 1
    assert redis.counters[generations.key("field", "F1")] == 1
