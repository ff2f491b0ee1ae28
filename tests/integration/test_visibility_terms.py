"""The visibility rule as ``narrowed`` writes it for a reader (its shares as branches of
their owner and period range, those past ``visibility.TERMS`` checked one by one) selects
on ClickHouse exactly the rows the rule means: the reader's own, and each other
organisation's whose well or field is shared with the reader over a range holding the
row's period. Random shares, many more than the branches hold, overlapping and touching."""

import random
from datetime import date

import pytest

from gateway import visibility
from gateway.visibility import FIRST, LAST, TERMS, Grant, Viewer, narrowed, visible
from runtime.clickhouse import ClickHouse
from tests.integration.gateway_support import Row, insert

pytestmark = pytest.mark.integration

MONTHS = [f"2020-{m:02d}" for m in range(1, 13)]


def _month(text: str) -> date:
    return date(int(text[:4]), int(text[5:]), 1)


def _grants(rng: random.Random, owners: list[str], rows: list[Row]) -> list[Grant]:
    codes = {
        "well": sorted({r.well_code for r in rows}),
        "field": sorted({r.field_code for r in rows}),
    }
    grants: list[Grant] = []
    for _ in range(rng.randint(2, 3 * visibility.TERMS)):
        kind = rng.choice(["well", "field"])
        code = rng.choice(codes[kind])
        first, last = sorted(rng.sample(range(len(MONTHS)), 2))
        span = rng.choice(
            [(FIRST, LAST), (_month(MONTHS[first]), LAST), (FIRST, _month(MONTHS[last])),
             (_month(MONTHS[first]), _month(MONTHS[last]))]
        )  # fmt: skip
        grants.append((rng.choice(owners), kind, code, *span))
    return grants


def _seen(row: Row, reader: str, grants: list[Grant]) -> bool:
    if row.organisation == reader:
        return True
    period = _month(row.period)
    return any(
        owner == row.organisation
        and (row.well_code if kind == "well" else row.field_code) == code
        and first <= period <= last
        for owner, kind, code, first, last in grants
    )


@pytest.mark.parametrize("seed", range(10))
async def test_the_written_rule_selects_what_the_rule_means(
    clickhouse: ClickHouse, unique: str, seed: int
) -> None:
    rng = random.Random(seed)
    owners = [f"{unique}-{n}" for n in range(4)]
    reader = owners[0]
    rows = [
        Row(f"{unique}w{rng.randrange(6)}", month, field_code=f"{unique}f{rng.randrange(3)}",
            organisation=rng.choice(owners), oil_bbl=1.0)
        for month in MONTHS for _ in range(6)
    ]  # fmt: skip
    rows = list({(r.organisation, r.well_code, r.period): r for r in rows}.values())
    await insert(clickhouse, rows)
    grants = _grants(rng, owners[1:], rows)
    viewer = Viewer(reader, grants=tuple(grants))
    expected = {
        (r.organisation, r.well_code, _month(r.period)) for r in rows if _seen(r, reader, grants)
    }
    select = f"SELECT organisation, well_code, period_start {visible('production')}"
    query = f"{select} AND well_code IN {{ours:Array(String)}}"
    bound = {"ours": sorted({r.well_code for r in rows})}
    written, params = narrowed(query, viewer, bound)
    assert (visibility.SHARED in written) == (len({(g[0], *g[3:]) for g in grants}) > TERMS)
    got = await clickhouse.rows(written, params)
    assert len(got) == len(expected)  # each row once
    assert set(got) == expected
    # the rule not narrowed, every share in {shares}: the row policies' form
    every = {**bound, "viewer": reader, "platform": False, "shares": sorted(set(grants))}
    assert set(await clickhouse.rows(query, every)) == expected
    # pinned to one well or one field, as a well's or a field's reads are
    for kind in ("well", "field"):
        for code in sorted({getattr(r, f"{kind}_code") for r in rows}):
            pinned = f"{select} AND {kind}_code = {{code:String}}"
            got = await clickhouse.rows(*narrowed(pinned, viewer, {"code": code}))
            assert set(got) == {
                (r.organisation, r.well_code, _month(r.period))
                for r in rows
                if getattr(r, f"{kind}_code") == code and _seen(r, reader, grants)
            }, (kind, code)
