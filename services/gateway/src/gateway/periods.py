"""Period bounds from query strings and period labels for each granularity."""

import calendar
import re
from datetime import date
from typing import Literal

Granularity = Literal["day", "month", "year"]

_BOUND = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")
BOUND_PATTERN = _BOUND.pattern


def parse_bound(text: str, *, end: bool) -> date:
    """``YYYY-MM-DD`` is that day; ``YYYY-MM`` is its first day, or its last as an end."""
    match = _BOUND.match(text)
    if match is None:
        raise ValueError("expected YYYY-MM or YYYY-MM-DD")
    year, month = int(match[1]), int(match[2])
    if match[3] is not None:
        return date(year, month, int(match[3]))
    if not 1 <= month <= 12:
        raise ValueError("month must be 01..12")
    return date(year, month, calendar.monthrange(year, month)[1] if end else 1)


def label(start: date, unit: str) -> str:
    """``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` for a bucket starting on ``start``."""
    if unit == "year":
        return f"{start.year:04d}"
    if unit == "month":
        return f"{start.year:04d}-{start.month:02d}"
    return start.isoformat()


def days(start: date, unit: str) -> int:
    """The days of the period of ``unit`` starting on ``start`` (a year, a month, a day)."""
    if unit == "year":
        return 366 if calendar.isleap(start.year) else 365
    if unit == "month":
        return calendar.monthrange(start.year, start.month)[1]
    return 1
