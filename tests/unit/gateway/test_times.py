"""Times leave the API in UTC with their offset, whichever engine returned them."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from gateway.models import PeriodRange, Stats


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param(datetime(2024, 5, 1, 12, 0), id="naive-from-embedded-engine"),
        pytest.param(datetime(2024, 5, 1, 12, 0, tzinfo=UTC), id="aware-from-server"),
        pytest.param(
            datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))), id="other-zone"
        ),
    ],
)
def test_last_ingest_is_utc_with_offset(stored: datetime) -> None:
    stats = Stats(
        records=1,
        wells=1,
        fields=0,
        period_range=PeriodRange(first=None, last=None),
        last_ingest_at=stored,
        dead_letters=0,
    )
    assert stats.model_dump(mode="json")["last_ingest_at"] in {
        "2024-05-01T12:00:00Z",
        "2024-05-01T12:00:00+00:00",
    }
