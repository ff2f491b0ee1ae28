"""Several services in one process: ``wellstream serve writer=8003 gateway=8000``.

Local mode runs the writer and the gateway so when ClickHouse is the embedded engine,
which allows one process per data directory; every other service runs as its own
process. The apps are served by uvicorn in one event loop, the writer first (it applies
the migrations the gateway reads).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator, Mapping

import uvicorn
from fastapi import FastAPI

from runtime import logs
from runtime.http import freeze_objects
from runtime.settings import Settings, load

#: The order in which the services start.
ORDER = ("writer", "validator", "ingestor", "gateway")


def _writer(port: int) -> FastAPI:
    from writer.app import create_app
    from writer.config import WriterSettings

    return create_app(load(WriterSettings, port=port))


def _validator(port: int) -> FastAPI:
    from validator.app import create_app
    from validator.config import ValidatorSettings

    return create_app(load(ValidatorSettings, port=port))


def _ingestor(port: int) -> FastAPI:
    from ingestor.app import create_app
    from ingestor.config import IngestorSettings

    return create_app(load(IngestorSettings, port=port))


def _gateway(port: int) -> FastAPI:
    from gateway.app import create_app
    from gateway.config import GatewaySettings

    return create_app(load(GatewaySettings, port=port))


BUILDERS: Mapping[str, Callable[[int], FastAPI]] = {
    "writer": _writer,
    "validator": _validator,
    "ingestor": _ingestor,
    "gateway": _gateway,
}


def parse_ports(pairs: list[str]) -> dict[str, int]:
    """``["gateway=8000", "writer=8003"]`` -> ``{"writer": 8003, "gateway": 8000}``, in
    start order."""
    ports: dict[str, int] = {}
    for pair in pairs:
        name, _, port = pair.partition("=")
        if name not in BUILDERS or not port.isdigit():
            raise ValueError(f"expected SERVICE=PORT with a service of {', '.join(ORDER)}")
        ports[name] = int(port)
    return {name: ports[name] for name in ORDER if name in ports}


class _Server(uvicorn.Server):
    """A server among several in one process: ``serve`` handles the signals once for
    all of them. (Each uvicorn server installs its own handlers and raises the signal
    again once it stopped; with several, one Ctrl-C stopped one server and the signal
    raised again cancelled the others mid-shutdown, hanging the exit.)"""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(
    apps: Mapping[str, FastAPI], ports: Mapping[str, int], host: str = "127.0.0.1"
) -> None:
    """Serve ``apps`` (the first one started first) until SIGINT or SIGTERM."""
    servers: list[uvicorn.Server] = []
    for name, app in apps.items():
        config = uvicorn.Config(app, host=host, port=ports[name], log_config=None, lifespan="on")
        servers.append(_Server(config))

    def stop() -> None:  # every server shuts down gracefully, however many signals come
        for server in servers:
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    first = asyncio.create_task(servers[0].serve())
    await _started(servers[:1], [first])
    rest = [asyncio.create_task(s.serve()) for s in servers[1:]]
    await _started(servers[1:], rest)
    freeze_objects()
    await asyncio.gather(first, *rest)


async def _started(servers: list[uvicorn.Server], tasks: list[asyncio.Task[None]]) -> None:
    # uvicorn exposes only a flag for "started"; poll it, and stop waiting if one failed.
    while not all(s.started for s in servers):
        if any(t.done() for t in tasks):
            await asyncio.gather(*tasks)  # re-raises the start-up failure
            return
        await asyncio.sleep(0.1)


def main(pairs: list[str]) -> None:
    ports = parse_ports(pairs)
    settings = load(Settings)
    logs.configure(settings.log_level, json=settings.log_json)
    apps = {name: BUILDERS[name](port) for name, port in ports.items()}
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(apps, ports, settings.host))
