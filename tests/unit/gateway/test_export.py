"""Exports run on an executor of their own: a stalled one holds no thread of the
default executor, which every other ClickHouse call uses (no infrastructure)."""

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar, cast

import pyarrow as pa
import pytest
from clickhouse_connect.driver.client import Client

from gateway import export
from runtime.errors import ApiError

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


async def stall_then_probe(client: StalledClickHouse, executor: OneWorker) -> str:
    exports = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export")
    body = export.stream(lambda: cast(Client, client), "SELECT 1", {}, "csv", {}, exports)
    waiting = asyncio.ensure_future(anext(body))
    try:
        # the export waits on ClickHouse, and every other call still finds the default
        # executor's one worker free
        probe = asyncio.get_running_loop().run_in_executor(None, lambda: "ran")
        return await asyncio.wait_for(probe, timeout=5)
    finally:
        waiting.cancel()  # what Starlette does when the client disconnects
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        await body.aclose()
        client.release.set()
        exports.shutdown(wait=True)


def test_a_stalled_export_leaves_the_default_executor_free() -> None:
    client = StalledClickHouse()
    # a loop of its own, so the shared test loop keeps its default executor
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        executor = OneWorker(runner.get_loop())
        runner.get_loop().set_default_executor(executor)
        assert runner.run(stall_then_probe(client, executor)) == "ran"


def test_exports_beyond_the_per_key_limit_answer_429() -> None:
    exports = export.Exports(lambda: cast(Client, None), workers=1, per_key=1)
    try:
        release = exports.claim("key:a")
        with pytest.raises(ApiError) as refused:
            exports.claim("key:a")
        assert (refused.value.status, refused.value.code) == (429, "rate_limited")
        assert refused.value.headers == {"Retry-After": "5"}
        exports.claim("key:b")()  # another key is not held back
        release()
        exports.claim("key:a")()
    finally:
        exports.close()
