"""Redis client factory."""

from redis.asyncio import Redis


def connect(url: str) -> Redis:
    return Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)


async def ping(client: Redis) -> None:
    if not await client.ping():
        raise ConnectionError("Redis did not answer PING")
