"""Analytic reads (``docs/analytics.md``): a well's decline curve, type curves over a
selection of wells, rankings by volume. Each reads the latest version of each record
through ``gateway.sql``; the decline is fitted in ``gateway.forecast``."""

from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

import orjson
from fastapi import Query
from pydantic import BaseModel, ConfigDict

from contracts.derived import boe
from contracts.identifiers import canonical_code
from gateway import forecast, sql
from gateway.decline import FitError, Model
from gateway.forecast import Basis, Month, Options
from gateway.params import MAX_CODE_LENGTH, CodeFilter, From, To, bounds, invalid
from gateway.queries import EARLIEST, LATEST, Queries
from gateway.sql import RankBy, Stream
from runtime.errors import ApiError

VOLUME_UNITS: Final[dict[Stream, str]] = {"oil": "bbl", "gas": "Mcf", "water": "bbl", "boe": "boe"}
MAX_MONTHS: Final = 100_000
StreamParam = Annotated[Stream, Query(description="oil, water (bbl), gas (Mcf) or boe")]


@dataclass(frozen=True, slots=True)
class DeclineParams:
    stream: StreamParam = "oil"
    model: Annotated[Model | Literal["auto"], Query(description="`auto` picks")] = "auto"
    start: From = None
    end: To = None
    terminal_decline: Annotated[float, Query(gt=0, le=0.9, examples=[0.06])] = 0.06
    economic_limit: Annotated[float, Query(ge=0, description="rate units")] = 0.0
    horizon_years: Annotated[float, Query(gt=0, le=100)] = 30.0
    rate: Annotated[Basis, Query(description="calendar- or producing-day rates")] = "calendar"


#: Characters of ``wells``: the server takes a request line of up to 64 KiB, and one
#: character may take 12 bytes in a URL (4 in UTF-8, each percent-encoded).
WELLS_LENGTH: Final = 5_000


@dataclass(frozen=True, slots=True)
class TypeCurveParams:
    stream: StreamParam = "oil"
    field_code: CodeFilter = None
    operator: Annotated[str | None, Query(min_length=1, max_length=200)] = None
    basin: Annotated[str | None, Query(min_length=1, max_length=200)] = None
    wells: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=WELLS_LENGTH,
            description="codes, comma-separated; for more, choose by field, operator or basin",
        ),
    ] = None
    months: Annotated[int, Query(ge=1, le=600)] = 60


@dataclass(frozen=True, slots=True)
class RankingParams:
    stream: StreamParam = "oil"
    start: From = None
    end: To = None
    by: RankBy = "well"
    limit: Annotated[int, Query(ge=1, le=1000)] = 10


def stream_volume(stream: Stream, oil: Any, gas: Any, water: Any, liquids: Any) -> float | None:
    if stream == "boe":
        return boe(oil, gas, liquids)
    found: float | None = {"oil": oil, "gas": gas, "water": water}[stream]
    return found


async def well_months(queries: Queries, well_code: str, stream: Stream) -> list[Month]:
    """The well's months (the series' monthly sums) with the stream's volume."""
    params = {"code": well_code, "start": EARLIEST, "end": LATEST, "limit": MAX_MONTHS}
    rows = await queries.rows(sql.series("well", "month", after=False), params)
    return [Month(day, stream_volume(stream, *vols), dop) for day, _, dop, *vols in rows]


def rate_unit(stream: Stream) -> str:
    return f"{VOLUME_UNITS[stream]}/d"


async def decline(queries: Queries, well_code: str, p: DeclineParams) -> bytes | None:
    """The decline answer of the well; None when the well is not known."""
    months = await well_months(queries, well_code, p.stream)
    if not months:
        return None
    start = bounds(p.start, None)[0] if p.start else None
    end = bounds(None, p.end)[1] if p.end else None
    options = Options(
        p.model, start, end, p.terminal_decline, p.economic_limit, p.horizon_years, p.rate
    )
    try:
        found = forecast.decline_curve(months, options)
    except FitError as exc:
        raise ApiError(422, str(exc)) from None
    head = {"well_code": well_code, "stream": p.stream, "model": found.pop("model")}
    units = {"rate_unit": rate_unit(p.stream), "volume_unit": VOLUME_UNITS[p.stream]}
    return orjson.dumps({**head, "rate_basis": p.rate, **units, **found})


def well_list(text: str) -> list[str]:
    codes = [canonical_code(c) for c in text.split(",") if c.strip()]
    if not codes or any(len(c) > MAX_CODE_LENGTH for c in codes):
        raise invalid("query.wells", "a comma-separated list of well codes")
    return codes


async def type_curve(queries: Queries, p: TypeCurveParams) -> bytes:
    chosen = {"field": p.field_code, "operator": p.operator, "basin": p.basin}
    if p.wells is None and not any(chosen.values()):
        raise invalid("query", "choose wells by field_code, operator, basin or wells")
    params: dict[str, Any] = {k: v for k, v in chosen.items() if v}
    if p.wells is not None:
        params["wells"] = well_list(p.wells)
    where = sql.selection(**{k: k in params for k in (*chosen, "wells")})
    params |= {"start": EARLIEST, "end": LATEST, "months": p.months}
    rows = await queries.rows(sql.type_curve(p.stream, where), params)
    items = [
        {"month": month, "wells": wells, "p10": q[0], "p50": q[1], "p90": q[2], "mean": mean}
        for month, wells, q, mean in rows
    ]
    aligned = items[0]["wells"] if items else 0
    body = {"stream": p.stream, "volume_unit": VOLUME_UNITS[p.stream], "wells": aligned}
    return orjson.dumps({**body, "items": items})


async def ranking(queries: Queries, p: RankingParams) -> bytes:
    first, last = bounds(p.start, p.end)
    params = {"start": first, "end": last, "limit": p.limit}
    rows = await queries.rows(sql.ranking(p.stream, p.by), params)
    items = [
        {"rank": rank, "code": code, "volume": volume, "share": share(volume, total)}
        for rank, (code, volume, total) in enumerate(rows, start=1)
    ]
    return orjson.dumps({"items": items})


def share(volume: float | None, total: float | None) -> float | None:
    return volume / total if volume is not None and total else None


class DeclineAnswer(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "well_code": "15/9-F-12", "stream": "oil", "model": "hyperbolic",
                "rate_basis": "calendar", "rate_unit": "bbl/d", "volume_unit": "bbl",
                "parameters": {"qi": 18250.0, "di_nominal": 1.32, "di_effective": 0.59,
                               "b": 0.84, "d_terminal_effective": None},
                "fit": {"from": "2014-03", "to": "2016-08", "months": 30, "r2": 0.97,
                        "rmse": 610.2},
                "cumulative_to_date": 3950120.0, "remaining": 812400.5, "eur": 4762520.5,
                "forecast": [{"period": "2016-09", "rate": 2480.1, "volume": 74403.0,
                              "cumulative": 4024523.0}],
            }
        }
    )  # fmt: skip

    well_code: str
    stream: Stream
    model: Model
    rate_basis: Basis
    rate_unit: str
    volume_unit: str
    parameters: dict[str, float | None]
    fit: dict[str, Any]
    cumulative_to_date: float
    remaining: float
    eur: float
    forecast: list[dict[str, Any]]


class TypeCurve(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "stream": "oil", "volume_unit": "bbl", "wells": 412,
                "items": [{"month": 1, "wells": 412, "p10": 31200.0, "p50": 14800.0,
                           "p90": 4100.0, "mean": 16950.2}],
            }
        }
    )  # fmt: skip

    stream: Stream
    volume_unit: str
    wells: int
    items: list[dict[str, float | int | None]]


class Ranking(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {"items": [{"rank": 1, "code": "15/9-F-12", "volume": 4950120.0,
                                   "share": 0.48}]}
        }
    )  # fmt: skip

    items: list[dict[str, Any]]
