"""An export whose client goes away gives its executor thread back (no infrastructure)."""

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar, cast

import pyarrow as pa
import pytest
from clickhouse_connect.driver.client import Client

from gateway import export

T = TypeVar("T")


class StalledClickHouse:
    """A query that sends nothing until released, so the stream waits on its queue."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def query_arrow_stream(
        self, *_: Any, **__: Any
    ) -> contextlib.nullcontext[Iterator[pa.RecordBatch]]:
        return contextlib.nullcontext(self._batches())

    def _batches(self) -> Iterator[pa.RecordBatch]:
        self.release.wait()
        yield from ()


class OneWorker(ThreadPoolExecutor):
    """A single-thread executor that tells when a job has started: a job still queued
    would be dropped by the cancel and prove nothing."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(max_workers=1, thread_name_prefix="default")
        self._loop = loop
        self.started = asyncio.Event()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        def run() -> T:
            self._loop.call_soon_threadsafe(self.started.set)
            return fn(*args, **kwargs)

        return super().submit(run)


async def abandon_then_probe(client: StalledClickHouse, executor: OneWorker) -> str:
    body = export.stream(cast(Client, client), "SELECT 1", {}, "csv", block_rows=10)
    waiting = asyncio.ensure_future(anext(body))
    await asyncio.wait_for(executor.started.wait(), timeout=5)
    waiting.cancel()  # what Starlette does when the client disconnects
    with pytest.raises(asyncio.CancelledError):
        await waiting
    # every ClickHouse call runs on the default executor: its one worker must be free
    probe = asyncio.get_running_loop().run_in_executor(None, lambda: "ran")
    return await asyncio.wait_for(probe, timeout=5)


def test_cancelled_export_frees_the_default_executor(monkeypatch: pytest.MonkeyPatch) -> None:
    client = StalledClickHouse()
    # each export's queue, so a getter left blocked can be freed and the test end
    queues: list[queue.Queue[bytes | BaseException | None]] = []
    produce = export._produce

    def kept(*args: Any) -> None:
        queues.append(args[5].out)
        produce(*args)

    monkeypatch.setattr(export, "_produce", kept)
    # a loop of its own, so the shared test loop keeps its default executor
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        executor = OneWorker(runner.get_loop())
        runner.get_loop().set_default_executor(executor)
        try:
            assert runner.run(abandon_then_probe(client, executor)) == "ran"
        finally:
            client.release.set()
            for out in queues:
                with contextlib.suppress(queue.Full):
                    out.put_nowait(None)
