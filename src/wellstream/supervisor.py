"""A small process supervisor for local mode: each service its own process, restarted
when it dies (as Kubernetes restarts a container), its output relayed line by line
behind its name, every process stopped on request (SIGTERM, then SIGKILL after a grace
period).

A restart waits ``BACKOFF_FIRST`` seconds, doubling up to ``BACKOFF_MAX``; a process that
ran ``BACKOFF_RESET`` seconds or more before it died starts again from the first delay.
Who runs under which pid is in the status file (JSON, rewritten at every start) and in
the log: ``validator[1234] started``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import orjson

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
BACKOFF_RESET = 30.0
GRACE_SECONDS = 10.0
#: The longest line relayed whole; a longer one is relayed in pieces of this size.
LINE_LIMIT = 1 << 20


@dataclass(frozen=True)
class Spec:
    """One process to keep running: its name in the log, its command, its environment
    and the HTTP port it serves (shown in the status file)."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    ports: Sequence[int] = ()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the child gets SIGTERM when the supervisor dies, even by SIGKILL (the
    children run in their own session, out of reach of the terminal's Ctrl-C)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def exit_reason(code: int) -> str:
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"


async def relay(stream: asyncio.StreamReader, prefix: str, out: IO[str]) -> None:
    """Copy ``stream`` to ``out`` line by line, each line behind ``prefix``."""
    while True:
        try:
            line = await stream.readuntil(b"\n")
        except asyncio.IncompleteReadError as end:
            line = end.partial
        except asyncio.LimitOverrunError as long:
            line = await stream.readexactly(long.consumed)
        if not line:
            return
        text = line.decode(errors="replace").rstrip("\n")
        out.write(f"{prefix}{text}\n")
        out.flush()


@dataclass
class Child:
    """A process of ``spec``, started again whenever it dies until ``stopping`` is set."""

    spec: Spec
    supervisor: Supervisor
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    delay: float = 0.0  # the next restart's, from BACKOFF_FIRST

    async def keep(self) -> None:
        stopping = self.supervisor.stopping
        self.delay = BACKOFF_FIRST
        while not stopping.is_set():
            started = time.monotonic()
            code = await self._run_once()
            if stopping.is_set():
                return
            if time.monotonic() - started >= BACKOFF_RESET:
                self.delay = BACKOFF_FIRST
            self.supervisor.say(
                f"{self.spec.name}[{self.pid}] {exit_reason(code)}; restarting in {self.delay:g} s"
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.delay)
            self.delay = min(self.delay * 2, BACKOFF_MAX)
            self.restarts += 1

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    async def _run_once(self) -> int:
        try:
            process = self.process = await asyncio.create_subprocess_exec(
                *self.spec.argv,
                env=dict(self.spec.env),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
                preexec_fn=_die_with_parent,
                limit=LINE_LIMIT,
            )
        except OSError as exc:
            self.supervisor.say(f"{self.spec.name}: cannot start {self.spec.argv[0]}: {exc}")
            return 127
        self.supervisor.started(self)
        assert process.stdout is not None
        assert process.stderr is not None
        prefix = f"{self.spec.name} | "
        await asyncio.gather(
            relay(process.stdout, prefix, sys.stdout),
            relay(process.stderr, prefix, sys.stderr),
            process.wait(),
        )
        return await process.wait()

    def signal(self, sig: signal.Signals) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)


@dataclass
class Supervisor:
    """Runs ``specs`` in order, each once the ones before listen on their ports (the
    first one applies the migrations the others read), until ``stop``."""

    specs: Sequence[Spec]
    status_file: Path
    grace: float = GRACE_SECONDS
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    children: list[Child] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def say(self, message: str) -> None:
        print(f"supervisor | {message}", flush=True)

    def started(self, child: Child) -> None:
        ports = ", ".join(f"port {port}" for port in child.spec.ports)
        self.say(f"{child.spec.name}[{child.pid}] started" + (f" ({ports})" if ports else ""))
        self.write_status()

    def write_status(self) -> None:
        status = {
            "supervisor": os.getpid(),
            "services": {
                c.spec.name: {"pid": c.pid, "ports": list(c.spec.ports), "restarts": c.restarts}
                for c in self.children
            },
        }
        self.status_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.status_file.with_suffix(".tmp")
        temporary.write_bytes(orjson.dumps(status, option=orjson.OPT_INDENT_2))
        temporary.replace(self.status_file)

    async def start(self, wait_seconds: float = 120.0) -> bool:
        """Start every process; True once all listen, False after ``wait_seconds``."""
        for spec in self.specs:
            child = Child(spec, self)
            self.children.append(child)
            self.tasks.append(asyncio.create_task(child.keep(), name=spec.name))
            if spec is self.specs[0]:
                await listening(spec.ports, wait_seconds, self.stopping)
        ports = [port for spec in self.specs for port in spec.ports]
        return await listening(ports, wait_seconds, self.stopping)

    async def stop(self) -> None:
        """SIGTERM to every process, SIGKILL to those still running after the grace."""
        self.stopping.set()
        for child in self.children:
            child.signal(signal.SIGTERM)
        pending: set[asyncio.Task[None]] = set()
        if self.tasks:
            _, pending = await asyncio.wait(self.tasks, timeout=self.grace)
        for child in self.children:
            if child.process is not None and child.process.returncode is None:
                self.say(f"{child.spec.name}[{child.pid}] still running, killing it")
                child.signal(signal.SIGKILL)
        if pending:
            await asyncio.wait(pending)
        self.status_file.unlink(missing_ok=True)


async def listening(ports: Sequence[int], seconds: float, stopping: asyncio.Event) -> bool:
    """Whether every port accepts connections within ``seconds`` (False when stopping)."""
    deadline = time.monotonic() + seconds
    waiting = list(ports)
    while waiting and time.monotonic() < deadline and not stopping.is_set():
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", waiting[0])
        except OSError:
            await asyncio.sleep(0.2)
            continue
        writer.close()
        waiting.pop(0)
    return not waiting
