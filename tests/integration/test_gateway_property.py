"""Property: a field's series equals the sum of its wells' series, whatever the
restatements, sources, nulls and granularity."""

import asyncio
import uuid
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.periods import Granularity
from gateway.queries import EARLIEST, LATEST, Queries, SeriesQuery
from gateway.visibility import Viewer
from runtime.clickhouse import ClickHouse, connect
from tests.conftest import Infra
from tests.integration.gateway_support import Row, insert

pytestmark = pytest.mark.integration

volume = st.one_of(st.none(), st.floats(min_value=-50, max_value=1e5).map(lambda v: round(v, 2)))
record = st.tuples(
    st.integers(0, 3),  # well
    st.sampled_from(["2023-11", "2023-12", "2024-01", "2024-01-15", "2024-02-03"]),
    st.sampled_from(["scada", "regulator"]),
    st.integers(1, 3),  # version
    st.one_of(st.none(), st.integers(0, 28).map(float)),
    volume,
    volume,
)
FIELDS = ("oil_bbl", "gas_mcf", "days_on_production")


def add(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else a + b


async def scenario(
    ch: ClickHouse,
    records: list[tuple[int, str, str, int, float | None, float | None, float | None]],
    g: Granularity,
) -> tuple[dict[str, tuple[float | None, ...]], dict[str, tuple[float | None, ...]]]:
    tag = uuid.uuid4().hex[:10]
    field = f"P{tag}"
    rows = [
        Row(f"{tag}-{w}", period, field_code=field, data_source=src, version=v,
            days_on_production=dop, oil_bbl=oil, gas_mcf=gas)
        for w, period, src, v, dop, oil, gas in records
    ]  # fmt: skip
    await insert(ch, rows)
    queries = Queries(ch, Viewer("default"))

    async def series(scope: str, code: str) -> dict[str, tuple[float | None, ...]]:
        q = SeriesQuery(scope, code, EARLIEST, LATEST, g, 10_000)  # type: ignore[arg-type]
        result = await queries.series(q)
        return {i["period"]: tuple(i[f] for f in FIELDS) for i in result.items}

    summed: dict[str, tuple[float | None, ...]] = defaultdict(lambda: (None,) * len(FIELDS))
    for well in sorted({r.well_code for r in rows}):
        for period, values in (await series("well", well)).items():
            summed[period] = tuple(add(a, b) for a, b in zip(summed[period], values, strict=True))
    return await series("field", rows[0].field_code), dict(summed)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    records=st.lists(record, min_size=1, max_size=25),
    granularity=st.sampled_from(["day", "month", "year"]),
)
def test_field_series_is_the_sum_of_its_wells(
    infra: Infra,
    clickhouse: ClickHouse,
    records: list[tuple[int, str, str, int, float | None, float | None, float | None]],
    granularity: Granularity,
) -> None:
    ch = ClickHouse(connect(infra.clickhouse))
    try:
        field, wells = asyncio.run(scenario(ch, records, granularity))
    finally:
        ch.close()
    assert field.keys() == wells.keys()
    for period, values in field.items():
        for got, want in zip(values, wells[period], strict=True):
            # null only where every well's value was null: not measured is not zero
            assert (got is None) == (want is None), period
            if got is not None:
                assert got == pytest.approx(want, rel=1e-9, abs=1e-6), period
