"""Per-key rate limits (``runtime.ratelimit``) on a real Redis, and on the intake routes."""

import asyncio
import uuid

import pytest

from runtime import redis
from runtime.ratelimit import RateLimiter
from tests.integration.ingestor_support import running, settings

pytestmark = pytest.mark.integration


async def test_limiter_allows_the_limit_then_says_when_to_retry(
    settings_env: dict[str, str],
) -> None:
    client = redis.connect(settings_env["WELLSTREAM_REDIS_URL"])
    limiter = RateLimiter(client, limit=3, period_s=60, namespace=f"test-{uuid.uuid4().hex}")
    try:
        decisions = [await limiter.hit("alice") for _ in range(4)]
        other = await limiter.hit("bob")
    finally:
        await client.aclose()
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions[:3]] == [2, 1, 0]
    assert 19 <= decisions[3].retry_after_s <= 20  # one slot frees every 60/3 s
    assert decisions[3].headers()["Retry-After"] == "20"
    assert other.allowed


async def test_limiter_is_atomic_under_concurrency(settings_env: dict[str, str]) -> None:
    client = redis.connect(settings_env["WELLSTREAM_REDIS_URL"])
    limiter = RateLimiter(client, limit=10, period_s=60, namespace=f"test-{uuid.uuid4().hex}")
    try:
        decisions = await asyncio.gather(*(limiter.hit("k") for _ in range(50)))
    finally:
        await client.aclose()
    assert sum(d.allowed for d in decisions) == 10


async def test_limiter_refills_over_time(settings_env: dict[str, str]) -> None:
    client = redis.connect(settings_env["WELLSTREAM_REDIS_URL"])
    limiter = RateLimiter(client, limit=2, period_s=0.4, namespace=f"test-{uuid.uuid4().hex}")
    try:
        first = [(await limiter.hit("k")).allowed for _ in range(3)]
        await asyncio.sleep(0.25)  # one slot frees every 0.2 s
        later = [(await limiter.hit("k")).allowed for _ in range(2)]
    finally:
        await client.aclose()
    assert (first, later) == ([True, True, False], [True, False])


async def test_intake_answers_429_with_retry_after_per_key(settings_env: dict[str, str]) -> None:
    async with running(settings(rate_limit_requests=2)) as client:
        responses = [
            await client.post("/api/v1/records", content=b'{"well_code": 1}\n') for _ in range(3)
        ]
        health = await client.get("/health/live")
    assert [r.status_code for r in responses] == [202, 202, 429]
    assert responses[0].headers["X-RateLimit-Remaining"] == "1"
    refused = responses[2]
    assert refused.json()["error_code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 30
    assert health.status_code == 200
