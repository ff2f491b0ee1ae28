"""Streamed CSV and Parquet exports of current records."""

import asyncio
import csv
import io
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pyarrow.parquet as pq
import pytest

from contracts.identifiers import canonical_code
from gateway import export
from gateway.queries import EARLIEST, LATEST
from gateway.visibility import Viewer, narrowed
from runtime.clickhouse import ClickHouse
from tests.integration.gateway_support import READ_KEY, Row, insert, serve, settings

pytestmark = pytest.mark.integration


async def test_csv_holds_current_versions_only(
    api: httpx.AsyncClient, clickhouse: ClickHouse, unique: str
) -> None:
    well = f"W{unique}"
    await insert(
        clickhouse,
        [
            Row(well, "2024-01", version=1, oil_bbl=1.0),
            Row(well, "2024-01", version=2, oil_bbl=2.0, gas_mcf=None),
            Row(well, "2024-02", oil_bbl=None, gas_mcf=5.0),
        ],
    )
    response = await api.get(f"/api/v1/export?format=csv&well_code={well}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["period"], r["oil_bbl"], r["gas_mcf"]) for r in rows] == [
        ("2024-01", "2", ""),
        ("2024-02", "", "5"),
    ]


async def test_parquet_filters_by_field_and_period(
    api: httpx.AsyncClient, clickhouse: ClickHouse, unique: str
) -> None:
    field = f"F{unique}"
    await insert(
        clickhouse,
        [
            Row(f"W{unique}", f"2024-{m:02d}", field_code=field, oil_bbl=float(m))
            for m in range(1, 7)
        ],
    )
    response = await api.get(
        f"/api/v1/export?format=parquet&field_code={field}&from=2024-02&to=2024-04"
    )
    assert response.status_code == 200
    table = pq.read_table(io.BytesIO(response.content))
    assert table.column("oil_bbl").to_pylist() == [2.0, 3.0, 4.0]
    assert set(table.column("field_code").to_pylist()) == {canonical_code(field)}


async def test_export_streams_block_by_block(clickhouse: ClickHouse, unique: str) -> None:
    well = f"W{unique}"
    await insert(
        clickhouse,
        [
            Row(well, f"2024-01-{d:02d}", field_code=str(i), oil_bbl=1.0)
            for i in range(100)
            for d in range(1, 31)
        ],
    )
    sql = export.export_sql(well=True, field=False)
    params = {"well": canonical_code(well), "start": EARLIEST, "end": LATEST}
    sql, params = narrowed(sql, Viewer("default"), params)
    limits = {"max_block_size": 1000}
    with ThreadPoolExecutor(2) as executor:
        chunks = [
            len(chunk)
            async for chunk in export.stream(
                lambda: clickhouse.client, sql, params, "csv", limits, executor
            )
        ]
        assert len(chunks) >= 3  # 3000 rows in blocks of 1000: never one whole body
        # a client that goes away stops the producer
        body = export.stream(lambda: clickhouse.client, sql, params, "parquet", limits, executor)
        assert await anext(body)
        await body.aclose()


async def series_latency(api: httpx.AsyncClient, well: str, times: int = 5) -> float:
    """The median latency of an uncached series read (the cache is off)."""
    took = []
    for _ in range(times):
        started = time.perf_counter()
        response = await api.get(f"/api/v1/wells/{well}/production?granularity=day")
        took.append(time.perf_counter() - started)
        assert response.status_code == 200
    return statistics.median(took)


async def test_a_series_read_keeps_its_latency_while_16_exports_stream(
    clickhouse: ClickHouse, settings_env: dict[str, str], unique: str
) -> None:
    well, bulk = f"W{unique}", f"B{unique}"
    await insert(clickhouse, [Row(well, f"2024-01-{d:02d}", oil_bbl=1.0) for d in range(1, 29)])
    await insert(
        clickhouse,
        [
            Row(f"{bulk}-{w}", f"2023-{m:02d}", field_code=f"F{unique}", oil_bbl=1.0)
            for w in range(800)
            for m in range(1, 13)
        ],
    )
    keys = [{"name": f"reader-{unique}", "key": READ_KEY, "scopes": ["read"]}]
    config = settings(api_keys=keys, cache_ttl_seconds=0, export_max_per_key=16)
    async with serve(config) as api:
        alone = await series_latency(api, well)

        async def slow_export() -> int:
            # a slow client: it reads a chunk, then takes its time
            url = f"/api/v1/export?format=csv&field_code=F{unique}"
            async with api.stream("GET", url) as response:
                assert response.status_code == 200
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    await asyncio.sleep(0.05)
                return size

        exports = [asyncio.create_task(slow_export()) for _ in range(16)]
        await asyncio.sleep(0.3)
        loaded = await series_latency(api, well)
        assert not all(task.done() for task in exports)  # still streaming meanwhile
        assert all(size > 0 for size in await asyncio.gather(*exports))
    assert loaded < 3 * alone + 0.2, (alone, loaded)
