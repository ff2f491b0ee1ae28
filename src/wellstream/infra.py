"""Real Kafka and Redis for local mode, tests and benchmarks, started by the project's
own scripts (``scripts/kafka.sh``, ``scripts/redis.sh``) and stopped on exit."""

from __future__ import annotations

import contextlib
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def script(name: str, *args: str) -> None:
    subprocess.run([str(SCRIPTS / name), *args], check=True)


@contextlib.contextmanager
def kafka(data: Path, port: int | None = None) -> Iterator[str]:
    """A single-node KRaft broker keeping its log in ``data``; yields bootstrap servers."""
    port = port or free_port()
    args = ["--port", str(port), "--controller-port", str(free_port()), "--data-dir", str(data)]
    script("kafka.sh", "start", *args)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        script("kafka.sh", "stop", "--data-dir", str(data))


@contextlib.contextmanager
def redis(data: Path, port: int | None = None) -> Iterator[str]:
    """Debian's redis-server (installed when missing) on ``port``; yields its URL."""
    port = port or free_port()
    script("redis.sh", "ensure")
    script("redis.sh", "start", "--port", str(port), "--data-dir", str(data))
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        script("redis.sh", "stop", "--data-dir", str(data))
