"""The local supervisor: a process that dies is started again after a growing delay,
its lines are relayed behind its name, and stopping ends every process (SIGKILL for one
that ignores SIGTERM)."""

import asyncio
import sys
from pathlib import Path

import orjson
import pytest

from wellstream import supervisor
from wellstream.supervisor import Spec, Supervisor


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


@pytest.fixture(autouse=True)
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor, "BACKOFF_FIRST", 0.05)
    monkeypatch.setattr(supervisor, "BACKOFF_MAX", 0.2)


async def test_a_process_that_dies_is_restarted_with_a_growing_delay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = "import sys; print('hello'); print('oops', file=sys.stderr); sys.exit(3)"
    sup = Supervisor([Spec("dying", python(code), {})], tmp_path / "status.json")
    await sup.start(wait_seconds=1)
    (child,) = sup.children
    for _ in range(200):
        if child.restarts >= 4:
            break
        await asyncio.sleep(0.05)
    await sup.stop()

    out, err = capsys.readouterr()
    assert child.restarts >= 4
    assert child.delay == 0.2  # doubled from 0.05 up to the ceiling
    assert "dying | hello" in out.splitlines()
    assert "dying | oops" in err.splitlines()
    assert "exited with status 3; restarting in 0.05 s" in out
    assert "restarting in 0.1 s" in out
    assert not (tmp_path / "status.json").exists()


async def test_status_names_each_pid_and_stop_ends_every_process(tmp_path: Path) -> None:
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    stubborn += "print('up', flush=True); time.sleep(60)"
    specs = [
        Spec("calm", python("import time; time.sleep(60)"), {}),
        Spec("stubborn", python(stubborn), {}),
    ]
    sup = Supervisor(specs, tmp_path / "status.json", grace=0.5)
    await sup.start(wait_seconds=1)
    await asyncio.sleep(0.5)  # the stubborn one ignores SIGTERM from here on
    status = orjson.loads((tmp_path / "status.json").read_bytes())
    pids = {name: entry["pid"] for name, entry in status["services"].items()}
    assert pids == {c.spec.name: c.pid for c in sup.children}

    await asyncio.wait_for(sup.stop(), 10)

    codes = {c.spec.name: c.process.returncode for c in sup.children if c.process}
    assert codes == {"calm": -15, "stubborn": -9}
    assert all(c.restarts == 0 for c in sup.children)


async def test_a_missing_program_is_reported_and_retried(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sup = Supervisor([Spec("ghost", [str(tmp_path / "missing")], {})], tmp_path / "s.json")
    await sup.start(wait_seconds=0.2)
    await asyncio.sleep(0.3)
    await sup.stop()
    out = capsys.readouterr().out
    assert "ghost: cannot start" in out
    assert "exited with status 127" in out


async def test_a_long_line_is_relayed_in_pieces() -> None:
    stream = asyncio.StreamReader(limit=8)
    stream.feed_data(b"0123456789abcdef\nend")
    stream.feed_eof()

    class Out:
        lines: list[str] = []

        def write(self, text: str) -> None:
            self.lines.append(text)

        def flush(self) -> None:
            pass

    out = Out()
    await supervisor.relay(stream, "x | ", out)  # type: ignore[arg-type]
    assert "".join(out.lines).replace("x | ", "").replace("\n", "") == "0123456789abcdef" + "end"
