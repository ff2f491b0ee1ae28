"""Local mode runs every service in one process: one Ctrl-C, or the same one delivered
twice (``uv run`` forwards the terminal's), stops every server gracefully."""

import asyncio
import os
import signal

import pytest
from fastapi import FastAPI

from wellstream import local
from wellstream.infra import free_port


async def _listening(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


@pytest.mark.parametrize(
    "signals", [[signal.SIGINT], [signal.SIGINT, signal.SIGINT], [signal.SIGTERM]]
)
async def test_signals_stop_every_server(
    signals: list[signal.Signals], monkeypatch: pytest.MonkeyPatch
) -> None:
    ports = {name: free_port() for name in local.PORTS}
    monkeypatch.setattr(local, "PORTS", ports)
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL", "CLICKHOUSE_URL"):  # for the banner
        monkeypatch.setenv(f"WELLSTREAM_{name}", "unused")
    served = asyncio.create_task(local.serve({name: FastAPI() for name in ports}, "key"))
    for _ in range(600):  # 30 s
        if all([await _listening(port) for port in ports.values()]):
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the servers did not start")

    for sig in signals:
        os.kill(os.getpid(), sig)
    await asyncio.wait_for(served, 30)

    assert not [port for port in ports.values() if await _listening(port)]
