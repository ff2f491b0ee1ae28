"""Real infrastructure for the test suite: a Kafka broker, a Redis server, a ClickHouse.

Precedence, per service: ``WELLSTREAM_*`` variables pointing at running services; a
Docker engine (testcontainers); otherwise the project's own scripts start a real Apache
Kafka broker (KRaft) and Debian's redis-server on free ports, and ClickHouse is the
embedded chDB engine in a temporary directory.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from wellstream import infra as scripts


@functools.cache
def docker_available() -> bool:
    """Asked once a session: ``docker info`` can take seconds, and each service asks."""
    if shutil.which("docker") is None:
        return False
    result = subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=20)
    return result.returncode == 0


@contextlib.contextmanager
def kafka(workdir: Path) -> Iterator[str]:
    if servers := os.environ.get("WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS"):
        yield servers
        return
    if docker_available():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("apache/kafka:4.1.1").with_kraft() as container:
            yield container.get_bootstrap_server()
        return
    with scripts.kafka(workdir / "kafka") as servers:
        yield servers


@contextlib.contextmanager
def redis(workdir: Path) -> Iterator[str]:
    if url := os.environ.get("WELLSTREAM_REDIS_URL"):
        yield url
        return
    if docker_available():
        from testcontainers.redis import RedisContainer

        with RedisContainer("redis:7-alpine") as container:
            host = container.get_container_host_ip()
            yield f"redis://{host}:{container.get_exposed_port(6379)}/0"
        return
    with scripts.redis(workdir / "redis") as url:
        yield url


@contextlib.contextmanager
def clickhouse(workdir: Path) -> Iterator[str]:
    if url := os.environ.get("WELLSTREAM_CLICKHOUSE_URL"):
        yield url
        return
    if docker_available():
        from testcontainers.clickhouse import ClickHouseContainer

        with ClickHouseContainer("clickhouse/clickhouse-server:25.8") as container:
            host = container.get_container_host_ip()
            port = container.get_exposed_port(8123)
            yield f"http://{container.username}:{container.password}@{host}:{port}/default"
        return
    # chDB allows one data directory per process: the whole session shares this one.
    yield f"chdb://{workdir / 'clickhouse'}"
