from datetime import date

import pytest

from gateway import periods


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        pytest.param("2024-02", False, date(2024, 2, 1), id="month-start"),
        pytest.param("2024-02", True, date(2024, 2, 29), id="month-end-leap"),
        pytest.param("2023-12", True, date(2023, 12, 31), id="month-end-december"),
        pytest.param("2024-02-10", False, date(2024, 2, 10), id="day-start"),
        pytest.param("2024-02-10", True, date(2024, 2, 10), id="day-end"),
    ],
)
def test_parse_bound(text: str, end: bool, expected: date) -> None:
    assert periods.parse_bound(text, end=end) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("2024-13", id="month-13"),
        pytest.param("2024-02-30", id="no-such-day"),
        pytest.param("2024", id="year-only"),
        pytest.param("24-01", id="short-year"),
        pytest.param("2024-01-01T00:00", id="timestamp"),
    ],
)
def test_parse_bound_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        periods.parse_bound(text, end=False)


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        pytest.param("day", "2024-03-05", id="day"),
        pytest.param("month", "2024-03", id="month"),
        pytest.param("year", "2024", id="year"),
    ],
)
def test_label(unit: str, expected: str) -> None:
    assert periods.label(date(2024, 3, 5), unit) == expected
