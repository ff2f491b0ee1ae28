"""The external API's pagination and retry rules, as plain functions."""

from typing import Any

import pytest

from ingestor.imports import ApiRefused, next_page, page_items, page_records, retry_after
from ingestor.limits import Limits

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("7", 7.0, id="seconds"),
        pytest.param(" 0 ", 0.0, id="zero"),
        pytest.param("Tue, 14 Nov 2023 22:13:50 GMT", 30.0, id="http-date"),
        pytest.param("Tue, 14 Nov 2023 22:00:00 GMT", 0.0, id="date-in-the-past"),
        pytest.param("soon", None, id="garbage"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_retry_after(header: str | None, expected: float | None) -> None:
    assert retry_after(header, now=NOW) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param([{"well_code": 1}], [{"well_code": 1}], id="bare-list"),
        pytest.param({"data": [1], "page": 1}, [1], id="data"),
        pytest.param({"items": []}, [], id="items"),
        pytest.param({"results": [2]}, [2], id="results"),
    ],
)
def test_page_records(body: Any, expected: list[Any]) -> None:
    assert page_records(body) == expected


def test_page_without_records_is_refused() -> None:
    with pytest.raises(ApiRefused):
        page_records({"error": "nope"})


@pytest.mark.parametrize(
    ("body", "page", "count", "expected"),
    [
        pytest.param({"next_page": 5}, 4, 10, 5, id="next-page-given"),
        pytest.param({"next_page": None}, 4, 10, None, id="next-page-null"),
        pytest.param({"total_pages": 4}, 3, 10, 4, id="below-total"),
        pytest.param({"total_pages": 4}, 4, 10, None, id="at-total"),
        pytest.param([], 2, 10, 3, id="full-page-goes-on"),
        pytest.param([], 2, 3, None, id="short-page-ends"),
        pytest.param([], 2, 0, None, id="empty-page-ends"),
    ],
)
def test_next_page(body: Any, page: int, count: int, expected: int | None) -> None:
    assert next_page(body, page, 10, count) == expected


def test_page_items_number_records_across_pages() -> None:
    items = page_items(
        [{"well_code": 9}, "x", {"well_code": 2**70}], first_line=11, limits=Limits()
    )
    assert [(i.line, i.key) for i in items] == [(11, "9"), (12, None), (13, None)]
    assert items[2].errors[0].code == "unparseable_json"
