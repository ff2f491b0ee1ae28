"""Streamed export of current records as CSV or Parquet.

ClickHouse streams Arrow blocks; a worker thread encodes each block and hands the bytes
over a small bounded queue, so memory holds a few blocks at most however large the
export, and a client that stops reading stops the query.

Exports run apart from everything else (``Exports``): on an executor of their own, with
``export_workers`` threads each holding its own ClickHouse client, and the response
waits on an asyncio queue, not on a thread. So however many exports stream, reads,
their ClickHouse clients and the readiness ping (the default executor) never wait
behind them. Each key runs at most ``export_max_per_key`` at once (429 beyond).
"""

import asyncio
import concurrent.futures
import io
import threading
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated, Any, Final, Literal

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from clickhouse_connect.driver.client import Client
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from gateway.cache import extra_headers
from gateway.config import GatewaySettings
from gateway.deps import Clients, viewer_of
from gateway.metrics import EXPORTED_ROWS
from gateway.params import CodeFilter, From, To, bounds, guard
from gateway.sql import every
from gateway.visibility import narrowed, visible
from runtime.errors import RETRY_AFTER, ApiError, error_responses
from runtime.ratelimit import client_key

Format = Literal["csv", "parquet"]
MEDIA_TYPES: Final[dict[Format, str]] = {
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}

_VALUES = (
    "field_name", "well_name", "well_reference", "days_on_production", "oil_bbl", "gas_mcf",
    "water_bbl", "liquids_bbl", "boe", "water_cut", "gor", "flags", "version", "ingested_at",
)  # fmt: skip
_EXPORT = """
SELECT well_code, field_code, period, period_type, period_start, data_source, {columns}
FROM (
    SELECT well_code, field_code, period, period_type, period_start, data_source,
           argMax(({values}), version) AS t
    {production} AND {where}
    GROUP BY record_id, well_code, field_code, period, period_type, period_start, data_source
)
ORDER BY well_code, period_start, field_code, data_source
"""


def export_sql(*, well: bool, field: bool) -> str:
    where = every(
        "well_code = {well:String}" if well else None,
        "field_code = {field:String}" if field else None,
        "period_start BETWEEN {start:Date32} AND {end:Date32}",
    )
    columns = ", ".join(f"t.{i} AS {name}" for i, name in enumerate(_VALUES, start=1))
    # CSV has no lists: flags travel as one '|'-separated text in both formats
    values = ", ".join("arrayStringConcat(flags, '|')" if v == "flags" else v for v in _VALUES)
    return _EXPORT.format(
        columns=columns, values=values, where=where, production=visible("production")
    )


class _Sink(io.RawIOBase):
    """A write-only file whose content is taken out after each block."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._size += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._size

    def drain(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def encode(batches: Iterator[pa.RecordBatch], fmt: Format) -> Iterator[bytes]:
    """Bytes of the file, one chunk per block; a header (or an empty file) when empty."""
    sink = _Sink()
    writer: Any = None
    for batch in batches:
        if writer is None:
            writer = (
                pa_csv.CSVWriter(sink, batch.schema)
                if fmt == "csv"
                else pq.ParquetWriter(sink, batch.schema, compression="zstd")
            )
        writer.write_batch(batch)
        EXPORTED_ROWS.inc(batch.num_rows)
        yield sink.drain()
    if writer is not None:
        writer.close()
        yield sink.drain()


@dataclass
class _Handoff:
    """The small bounded queue from the worker thread, and the flag that stops it."""

    loop: asyncio.AbstractEventLoop
    out: "asyncio.Queue[bytes | BaseException | None]" = field(
        default_factory=lambda: asyncio.Queue(maxsize=4)
    )
    stop: threading.Event = field(default_factory=threading.Event)

    def put(self, item: bytes | BaseException | None) -> None:
        """Wait (in the worker) for room in the queue, or for the stop."""
        done = asyncio.run_coroutine_threadsafe(self.out.put(item), self.loop)
        while not self.stop.is_set():
            try:
                done.result(timeout=0.5)
                return
            except concurrent.futures.TimeoutError:
                continue
        done.cancel()


def _produce(
    client: Callable[[], Client],
    sql: str,
    params: dict[str, Any],
    fmt: Format,
    settings: dict[str, Any],
    handoff: _Handoff,
) -> None:
    try:
        with client().query_arrow_stream(sql, parameters=params, settings=settings) as stream:
            for chunk in encode(iter(stream), fmt):
                if handoff.stop.is_set():
                    return
                if chunk:
                    handoff.put(chunk)
        handoff.put(None)
    except BaseException as exc:  # handed to the response, which ends the stream
        handoff.put(exc)


async def stream(
    client: Callable[[], Client],
    sql: str,
    params: dict[str, Any],
    fmt: Format,
    settings: dict[str, Any],
    executor: Executor,
) -> AsyncGenerator[bytes]:
    """The file's chunks; ``client`` is called in the worker thread for its client."""
    handoff = _Handoff(asyncio.get_running_loop())
    args = (client, sql, params, fmt, settings, handoff)
    asyncio.get_running_loop().run_in_executor(executor, _produce, *args)
    try:
        while True:
            item = await handoff.out.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        handoff.stop.set()


class Exports:
    """The exports' executor, one ClickHouse client per worker thread (made on first
    use, so an export that finds ClickHouse away fails alone), and the running count
    of each key."""

    def __init__(self, connect: Callable[[], Client], workers: int, per_key: int) -> None:
        self.executor = ThreadPoolExecutor(workers, thread_name_prefix="export")
        self._connect = connect
        self._local = threading.local()
        self._made: list[Client] = []
        self._per_key = per_key
        self._running: Counter[str] = Counter()

    def client(self) -> Client:
        """This worker thread's client."""
        made: Client | None = getattr(self._local, "client", None)
        if made is None:
            made = self._local.client = self._connect()
            self._made.append(made)
        return made

    def claim(self, key: str) -> Callable[[], None]:
        """One export of ``key`` more, or 429; returns its release."""
        if self._running[key] >= self._per_key:
            message = f"at most {self._per_key} exports at once per key"
            raise ApiError(429, message, headers={"Retry-After": RETRY_AFTER})
        self._running[key] += 1

        def release() -> None:
            self._running[key] -= 1

        return release

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        for made in self._made:
            made.close()


async def _released(
    body: AsyncGenerator[bytes], release: Callable[[], None]
) -> AsyncIterator[bytes]:
    try:
        async for chunk in body:
            yield chunk
    finally:
        release()
        await body.aclose()


def build_router(settings: GatewaySettings, clients: Clients) -> APIRouter:
    router = APIRouter(
        prefix="/api/v1", dependencies=guard(settings, clients, "read"), tags=["export"]
    )
    content = {
        media: {"schema": {"type": "string", "format": "binary"}} for media in MEDIA_TYPES.values()
    }

    @router.get(
        "/export",
        response_class=StreamingResponse,
        responses={200: {"content": content, "description": "The file"}, **error_responses()},
        summary="Stream current records as CSV or Parquet",
    )
    async def export_records(
        request: Request,
        fmt: Annotated[Format, Query(alias="format")] = "csv",
        well_code: CodeFilter = None,
        field_code: CodeFilter = None,
        start: From = None,
        end: To = None,
    ) -> StreamingResponse:
        """One row per natural key at its latest version, ordered by well and period.
        Streamed block by block; a 10M-row export never sits whole in memory."""
        first, last = bounds(start, end)
        viewer = await clients.granted(viewer_of(request))
        params: dict[str, Any] = {"start": first, "end": last}
        if well_code:
            params["well"] = well_code
        if field_code:
            params["field"] = field_code
        query, params = narrowed(
            export_sql(well=bool(well_code), field=bool(field_code)), viewer, params
        )
        exports = clients.exporter()
        release = exports.claim(client_key(request))
        limits = {
            "max_block_size": settings.export_block_rows,
            "max_execution_time": settings.export_max_execution_seconds,
        }
        chunks = stream(exports.client, query, params, fmt, limits, exports.executor)
        body = _released(chunks, release)
        headers = {
            **extra_headers(request),
            "Content-Disposition": f'attachment; filename="production.{fmt}"',
        }
        return StreamingResponse(body, media_type=MEDIA_TYPES[fmt], headers=headers)

    return router
