"""Streamed export of current records as CSV or Parquet.

ClickHouse streams Arrow blocks; a worker thread encodes each block and hands the bytes
over a small bounded queue, so memory holds a few blocks at most however large the
export, and a client that stops reading stops the query.
"""

import asyncio
import contextlib
import io
import queue
import threading
from collections.abc import AsyncGenerator, Iterator
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
from gateway.deps import Clients
from gateway.metrics import EXPORTED_ROWS
from gateway.params import CodeFilter, From, To, bounds, errors, guard

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
    FROM production
    WHERE {where}
    GROUP BY record_id, well_code, field_code, period, period_type, period_start, data_source
)
ORDER BY well_code, period_start, field_code, data_source
"""


def export_sql(*, well: bool, field: bool) -> str:
    where = ["period_start BETWEEN {start:Date32} AND {end:Date32}"]
    if well:
        where.append("well_code = {well:String}")
    if field:
        where.append("field_code = {field:String}")
    columns = ", ".join(f"t.{i} AS {name}" for i, name in enumerate(_VALUES, start=1))
    # CSV has no lists: flags travel as one '|'-separated text in both formats
    values = ", ".join("arrayStringConcat(flags, '|')" if v == "flags" else v for v in _VALUES)
    return _EXPORT.format(columns=columns, values=values, where=" AND ".join(where))


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

    out: "queue.Queue[bytes | BaseException | None]" = field(
        default_factory=lambda: queue.Queue(maxsize=4)
    )
    stop: threading.Event = field(default_factory=threading.Event)

    def put(self, item: bytes | BaseException | None) -> None:
        while not self.stop.is_set():
            try:
                self.out.put(item, timeout=0.5)
                return
            except queue.Full:
                continue


def _produce(
    client: Client,
    sql: str,
    params: dict[str, Any],
    fmt: Format,
    block_rows: int,
    handoff: _Handoff,
) -> None:
    try:
        settings = {"max_block_size": block_rows}
        with client.query_arrow_stream(sql, parameters=params, settings=settings) as stream:
            for chunk in encode(iter(stream), fmt):
                if handoff.stop.is_set():
                    return
                if chunk:
                    handoff.put(chunk)
        handoff.put(None)
    except BaseException as exc:  # handed to the response, which ends the stream
        handoff.put(exc)


async def stream(
    client: Client, sql: str, params: dict[str, Any], fmt: Format, block_rows: int
) -> AsyncGenerator[bytes]:
    handoff = _Handoff()
    args = (client, sql, params, fmt, block_rows, handoff)
    worker = threading.Thread(target=_produce, args=args, name="export", daemon=True)
    worker.start()
    try:
        while True:
            item = await asyncio.to_thread(handoff.out.get)
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        handoff.stop.set()
        # a getter cancelled mid-wait still blocks its executor thread, the one every
        # ClickHouse call shares, and the stopped producer puts nothing more: wake it.
        # A full queue has no getter waiting.
        with contextlib.suppress(queue.Full):
            handoff.out.put_nowait(None)


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
        responses={200: {"content": content, "description": "The file"}, **errors()},
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
        params: dict[str, Any] = {"start": first, "end": last}
        if well_code:
            params["well"] = well_code
        if field_code:
            params["field"] = field_code
        query = export_sql(well=bool(well_code), field=bool(field_code))
        body = stream(clients.client(), query, params, fmt, settings.export_block_rows)
        headers = {
            **extra_headers(request),
            "Content-Disposition": f'attachment; filename="production.{fmt}"',
        }
        return StreamingResponse(body, media_type=MEDIA_TYPES[fmt], headers=headers)

    return router
