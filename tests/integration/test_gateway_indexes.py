"""The gateway's field reads are served by the `by_field` projection (migration 002)."""

from typing import Any

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from contracts.identifiers import canonical_code
from gateway import sql
from gateway.queries import EARLIEST, LATEST
from gateway.visibility import Viewer, narrowed
from runtime.clickhouse import ClickHouse
from tests.integration.gateway_support import Row, insert

pytestmark = pytest.mark.integration

# A query the projection cannot serve fails instead of silently reading the whole table.
FORCED = {"optimize_use_projections": 1, "force_optimize_projection": 1}


async def test_projection_is_sorted_by_field(clickhouse: ClickHouse) -> None:
    rows = await clickhouse.rows(
        "SELECT sorting_key FROM system.projections"
        " WHERE database = currentDatabase() AND table = 'production' AND name = 'by_field'"
    )
    assert rows == [(["field_code", "period_start", "well_code"],)]


@pytest.mark.parametrize(
    ("query", "extra"),
    [
        pytest.param(sql.series("field", "month", after=False), {"limit": 10}, id="series"),
        pytest.param(sql.summary("field"), {}, id="summary"),
        pytest.param(sql.FIELD, {}, id="detail"),
    ],
)
async def test_field_reads_use_the_projection(
    clickhouse: ClickHouse, unique: str, query: str, extra: dict[str, Any]
) -> None:
    field = f"PF{unique}"
    await insert(clickhouse, [Row(f"PW{unique}", "2024-01", field_code=field, oil_bbl=5.0)])
    params = {"code": canonical_code(field), "start": EARLIEST, "end": LATEST, **extra}
    # through the visibility filter, as every read
    query, params = narrowed(query, Viewer("default"), params)
    rows = await clickhouse.rows(query, params, settings=FORCED)
    assert len(rows) == 1


async def test_a_read_outside_the_projection_is_refused_when_forced(
    clickhouse: ClickHouse,
) -> None:
    with pytest.raises(DatabaseError, match="projection"):
        await clickhouse.rows(
            "SELECT flags FROM production WHERE field_code = {code:String}",
            {"code": "NONE"},
            settings=FORCED,
        )
