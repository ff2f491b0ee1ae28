"""The fault suite's raw records: at any size, every one is a distinct record the
validator keeps (a period in the future would be rejected and counted as lost)."""

from datetime import date

import orjson

from wellstream.chaos import data


def _key(i: int) -> tuple[str, str, str]:
    record = orjson.loads(data.raw(i, "p"))
    return record["well_code"], record["production_period"], record["data_source"]


def test_a_million_raw_records_are_distinct_and_in_the_past() -> None:
    count = 1_000_000
    sample = {*range(0, count, 7), count - 2, count - 1}
    keys = {_key(i) for i in sample}

    assert len(keys) == len(sample)
    assert max(period for _, period, _ in keys) < date.today().isoformat()


def test_the_days_start_over_from_another_source() -> None:
    last = data.WELLS * data.RAW_DAYS - 1

    assert _key(last)[2] == "chaos"
    assert _key(last + 1) == ("p-0", "2000-01-01", "chaos-2")
