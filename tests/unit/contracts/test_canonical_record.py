"""``canonical_record``: tools build records from the fields they mean, the rest empty."""

from datetime import UTC, date, datetime

import pytest

from contracts import SCHEMA_VERSION
from contracts.records import canonical_record, decode_canonical, encode

MOMENT = datetime(2024, 1, 2, tzinfo=UTC)
DATED = {
    "period_start": date(2024, 1, 1),
    "period_type": "month",
    "ingested_at": MOMENT,
    "normalized_at": MOMENT,
}


def test_fields_not_given_are_empty_by_their_type() -> None:
    record = canonical_record(well_code="W1", oil_bbl=1.5, **DATED)

    assert (record.well_code, record.oil_bbl) == ("W1", 1.5)
    assert (record.field_code, record.version, record.flags, record.extra) == ("", 0, [], {})
    assert (record.gas_mcf, record.field_name, record.boe) == (None, None, None)
    assert record.schema_version == SCHEMA_VERSION
    assert decode_canonical(encode(record)) == record


def test_fields_without_an_empty_value_must_be_given() -> None:
    with pytest.raises(TypeError, match="ingested_at, normalized_at, period_start, period_type"):
        canonical_record(well_code="W1")
