"""The pipeline benchmark's stages, each a process of its own: started with their
settings in the environment, waited for until ready, watched through their consumer
groups' commits, profiled by py-spy when asked, stopped.

``WELLSTREAM_BENCH_PROFILE=DIR`` attaches ``py-spy record --nonblocking`` to every stage
process once it is ready and writes one speedscope file per stage and run into ``DIR``.
"""

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from runtime import kafka
from runtime.settings import Settings
from wellstream import infra

BIN = Path(sys.executable).parent
PROFILE = os.environ.get("WELLSTREAM_BENCH_PROFILE")


@dataclass(frozen=True)
class Stage:
    name: str
    command: list[str]
    env: dict[str, str]
    port: int | None = None  # health endpoint; else the process prints "ready"


def service(name: str, script: str, env: Mapping[str, str]) -> Stage:
    port = infra.free_port()
    settings = {"WELLSTREAM_PORT": str(port), "WELLSTREAM_HOST": "127.0.0.1"}
    return Stage(name, [str(BIN / script)], {**env, **settings}, port)


def bare(name: str, step: str, env: Mapping[str, str]) -> Stage:
    return Stage(name, [sys.executable, "-m", "wellstream.bench.bare", step], dict(env))


async def _ready(stage: Stage, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    if stage.port is None:
        assert process.stdout is not None
        line = await asyncio.to_thread(process.stdout.readline)
        if line.strip() != b"ready":
            raise RuntimeError(f"{stage.name} did not start (exit {process.wait()})")
        return
    url = f"http://127.0.0.1:{stage.port}/health/ready"
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{stage.name} did not start (exit {process.poll()})")
        with (
            contextlib.suppress(OSError),
            await asyncio.to_thread(urllib.request.urlopen, url, timeout=1) as answer,
        ):
            if answer.status == 200:
                return
        await asyncio.sleep(0.1)


def _stop(process: subprocess.Popen[bytes], how: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(how)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _profiler(stage: Stage, process: subprocess.Popen[bytes], tag: str) -> list[str]:
    if not PROFILE or not shutil.which("py-spy"):
        return []
    Path(PROFILE).mkdir(parents=True, exist_ok=True)
    out = Path(PROFILE) / f"{tag}-{stage.name}.json"
    return ["py-spy", "record", "--nonblocking", "-r", "50", "--format", "speedscope",
            "-o", str(out), "--pid", str(process.pid)]  # fmt: skip


def _start(command: list[str], env: dict[str, str] | None, piped: bool) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE if piped else None)


@contextlib.asynccontextmanager
async def running(stages: list[Stage], tag: str) -> AsyncIterator[list[subprocess.Popen[bytes]]]:
    """The stages started in order, each ready before the next starts; stopped in
    reverse order (SIGTERM: the services shut down gracefully) on exit."""
    processes: list[subprocess.Popen[bytes]] = []
    profilers: list[subprocess.Popen[bytes]] = []
    try:
        for stage in stages:
            processes.append(_start(stage.command, stage.env, piped=stage.port is None))
            await _ready(stage, processes[-1])
        for stage, process in zip(stages, processes, strict=True):
            if command := _profiler(stage, process, tag):
                profilers.append(_start(command, None, piped=False))
        yield processes
    finally:
        for profiler in profilers:
            _stop(profiler, signal.SIGINT)  # py-spy writes its file on SIGINT
        for process in reversed(processes):
            _stop(process)


class Commits:
    """Whether the validators' group committed every raw offset and the writers' group
    every normalized one (offsets as the broker has them when asked)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.admin = AIOKafkaAdminClient(**kafka.connection(settings))
        self.probe = AIOKafkaConsumer(**kafka.connection(settings))

    async def __aenter__(self) -> "Commits":
        await self.admin.start()
        await self.probe.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.probe.stop()
        await self.admin.close()

    async def _stage_done(self, group: str, topic: str) -> bool:
        partitions = [TopicPartition(topic, p) for p in range(self.settings.topic_partitions)]
        ends = await self.probe.end_offsets(partitions)
        offsets = await self.admin.list_consumer_group_offsets(group, partitions=partitions)
        committed = {tp: max(meta.offset, 0) for tp, meta in offsets.items() if meta is not None}
        return all(committed.get(tp, 0) >= end for tp, end in ends.items())

    async def done(self) -> bool:
        prefix, s = self.settings.consumer_group_prefix, self.settings
        return await self._stage_done(f"{prefix}.validator", s.topic_raw) and (
            await self._stage_done(f"{prefix}.writer", s.topic_normalized)
        )

    async def wait(self, limit_seconds: float = 900) -> None:
        deadline = time.monotonic() + limit_seconds
        while not await self.done():
            if time.monotonic() > deadline:
                raise TimeoutError("the stages did not commit every offset in time")
            await asyncio.sleep(0.05)
