"""Redis client factory: ``redis://`` or ``rediss://`` (TLS), with an ACL user as
``redis[s]://user:password@host:port/db``."""

from pathlib import Path
from typing import Any

from redis.asyncio import Redis


def connect(url: str, *, ca_file: Path | None = None) -> Redis:
    """A client of ``url``; a ``rediss://`` server's certificate and host name are
    verified against ``ca_file`` (default: the system's CAs)."""
    tls: dict[str, Any] = {}
    if ca_file and url.startswith("rediss://"):
        tls["ssl_ca_certs"] = str(ca_file)
    return Redis.from_url(
        url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30, **tls
    )


async def ping(client: Redis) -> None:
    if not await client.ping():
        raise ConnectionError("Redis did not answer PING")
