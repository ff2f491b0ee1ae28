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
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests import tls
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


@dataclass(frozen=True)
class SecureKafka:
    """A broker with a SASL_SSL listener, as managed Kafka services offer: TLS with a
    certificate of a CA of the fixture's own, and users for PLAIN and SCRAM."""

    bootstrap: str
    cafile: Path
    users: dict[str, str]


@contextlib.contextmanager
def secure_kafka(workdir: Path) -> Iterator[SecureKafka]:
    """Always the project's own broker (Java): a container would need the same TLS and
    JAAS set-up written for it."""
    keystore, password = workdir / "broker.p12", secrets.token_hex(8)
    cafile = tls.write_ca_and_keystore(workdir, keystore, password)
    users = {"alice": secrets.token_hex(8), "bob": secrets.token_hex(8)}
    port = scripts.free_port()
    data = workdir / "kafka"
    args = [
        *("--port", str(scripts.free_port()), "--controller-port", str(scripts.free_port())),
        *("--data-dir", str(data), "--sasl-ssl-port", str(port)),
        *("--keystore", str(keystore), "--keystore-password", password),
        *(arg for name, secret in users.items() for arg in ("--user", f"{name}:{secret}")),
    ]
    scripts.script("kafka.sh", "start", *args)
    try:
        yield SecureKafka(f"127.0.0.1:{port}", cafile, users)
    finally:
        scripts.script("kafka.sh", "stop", "--data-dir", str(data))


@dataclass(frozen=True)
class SecureRedis:
    """A Redis serving TLS only, with the default user off and one ACL user."""

    host: str
    port: int
    cafile: Path
    user: str
    password: str


@contextlib.contextmanager
def secure_redis(workdir: Path) -> Iterator[SecureRedis]:
    """Debian's redis-server (built with TLS) on a TLS port of its own; no data kept."""
    scripts.script("redis.sh", "ensure")
    cafile, certfile, keyfile = tls.write_pem(workdir)
    port, password = scripts.free_port(), secrets.token_hex(8)
    args = ["--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1"]
    args += ["--tls-cert-file", str(certfile), "--tls-key-file", str(keyfile)]
    args += ["--tls-ca-cert-file", str(cafile), "--tls-auth-clients", "no"]
    args += ["--user", "default", "off", "--user", "app", "on", f">{password}", "~*", "&*", "+@all"]
    args += ["--save", "", "--appendonly", "no", "--dir", str(workdir)]
    log = (workdir / "redis.log").open("wb")
    server = subprocess.Popen(["redis-server", *args], stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, server)
        yield SecureRedis("127.0.0.1", port, cafile, "app", password)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def _wait_for_port(port: int, server: subprocess.Popen[bytes], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while server.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"redis-server did not listen on {port} (exit code {server.poll()})")
