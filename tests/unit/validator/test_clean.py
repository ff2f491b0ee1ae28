"""The clean path answers only where the explaining path keeps the record, with the same
record byte for byte, and leaves everything else to it."""

import json
import random
import threading
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from contracts.records import CanonicalRecord, encode
from tests.unit.validator.conftest import DROP, NOW, good, message
from validator.canonical import Clock
from validator.clean import CleanPath
from validator.enrich import WellRef
from validator.explain import explain
from validator.messages import Normalized, RawMessage
from validator.pipeline import LAST_ACCEPTED_MS, process_batch
from validator.rules import Policy
from wellstream.bench.data import raw_records

POLICY = Policy()
REFERENCE = {"1234": WellRef(well_code="1234", operator="Petrobras", field_code="77")}
Reference = Mapping[str, WellRef | None] | None


def clean(item: RawMessage, reference: Reference, policy: Policy = POLICY) -> bytes | None:
    record = CleanPath(policy, Clock(NOW), reference).record(item)
    return None if record is None else encode(record)


def explained(item: RawMessage, reference: Reference) -> bytes | None:
    result = explain(item, POLICY, reference, Clock(NOW))
    return encode(result) if isinstance(result, CanonicalRecord) else None


def assert_agree(item: RawMessage, reference: Reference) -> bool:
    """Whether the clean path answered; where it did, the explaining path agrees."""
    body = clean(item, reference)
    if body is None:
        return False
    full = explained(item, reference)
    assert full is not None, f"the clean path kept a record the explaining path rejects: {item}"
    assert body == full  # the bytes: -0.0 == 0.0 and 1 == 1.0, and key order counts
    return True


numbers = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-5, max_value=400)
    | st.floats(min_value=-5, max_value=400, allow_nan=False)
    | st.sampled_from(["", " ", "1.5", " 2 ", "1_0", "nan", "inf", "abc", "1e2", "-0.5", "+1"])
    | st.sampled_from([".5", "5.", "1e999", "null", "\u0661", "-0", "0.", "1.2.3", "00.5"])
)
codes = (
    st.integers(min_value=-3, max_value=10**6)
    | st.text(alphabet="0123456789ABab- ", max_size=8)
    | st.sampled_from([True, 1.5, None, "\uff11\uff12", 10**30, 2**63, -(2**63) - 1])
)
units = st.sampled_from(["bbl", "Sm3", "sm3", "m3", "scf", "Mcf", "MMcf", "barrels", " bbl "])
volume = st.none() | st.fixed_dictionaries({"value": numbers, "unit": units})
streams = st.sampled_from(["oil", "gas", "water", "liquids", "condensate"])
periods = st.sampled_from(["2024-01", "2024-02-29", "2023-02-29", "2024-13", "2024-1"]) | (
    st.sampled_from(["2024-03-31T00:00:00Z", "2024-03-31T01:00:00", "2031-01", "20240105", 202401])
)
changes = st.fixed_dictionaries(
    {},
    optional={
        "well_code": codes,
        "field_code": codes,
        "production_period": periods,
        "days_on_production": numbers,
        "oil_production_kbd": numbers,
        "gas_production_mmcfd": numbers,
        "water_production_kbd": numbers,
        "liquids_production_kbd": numbers,
        "volumes": st.none() | st.dictionaries(streams, volume, max_size=3),
        "data_source": st.none() | st.sampled_from(["", "anp", 7]),
        "revision": st.none() | st.sampled_from(["", "3", -1, 2, 5_000_000, True]),
        "well_name": st.none() | st.sampled_from(["W", 12]),
        "partition_0": st.sampled_from(["p", 1]),
        "note": st.sampled_from(["x", None, {"by": [1, -0.0]}]),
    },
)


def raw_value(change: dict[str, Any], audit_last: bool) -> bytes:
    """``good(**change)`` as JSON; with ``audit_last``, its ``source_data`` (if any) sent
    last, after any other field the contract does not name."""
    record = good(**change)
    if audit_last and "source_data" in record:
        record["source_data"] = record.pop("source_data")
    return json.dumps(record).encode()  # stdlib: integers beyond 64 bits too


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes, st.booleans(), st.booleans())
def test_the_clean_path_agrees_with_the_explaining_path(
    change: dict[str, Any], enrich_on: bool, audit_last: bool
) -> None:
    assert_agree(RawMessage(raw_value(change, audit_last)), REFERENCE if enrich_on else None)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=LAST_ACCEPTED_MS))
@example(0)
@example(951_782_400_000)  # 2000-02-29
@example(LAST_ACCEPTED_MS)
def test_the_time_accepted_is_kept_as_the_explaining_path_keeps_it(ms: int) -> None:
    assert assert_agree(message(good(), accepted_ms=ms), None)


ANSWERED = [
    pytest.param(good(), id="seed-rates"),
    pytest.param(good(source_data=DROP), id="no-audit-fields"),
    pytest.param(good(partition_0=3, source_data=None), id="audit-fields"),
    pytest.param(good(well_code=" 001234 ", field_code="077"), id="padded-codes"),
    pytest.param(good(oil_production_kbd="1.25", days_on_production="30"), id="numeric-strings"),
    pytest.param(good(oil_production_kbd=" 1.5e0 "), id="numeric-string-read-by-pydantic"),
    pytest.param(good(water_production_kbd=""), id="empty-string-is-null"),
    pytest.param(good(oil_production_kbd=0, gas_production_mmcfd=0.0), id="zeros"),
    pytest.param(good(revision=7, well_name='Poço "7"\n'), id="revision-and-escapes"),
    pytest.param(good(production_period="2024-02-29", days_on_production=1), id="daily-period"),
    pytest.param(
        good(production_period="2024-03-31T00:00:00Z", days_on_production=0.5),
        id="midnight-timestamp",
    ),
    pytest.param(
        good(
            oil_production_kbd=DROP,
            gas_production_mmcfd=DROP,
            water_production_kbd=DROP,
            volumes={
                "oil": {"value": 1000, "unit": "Sm3"},
                "gas": {"value": 250.5, "unit": "MMcf"},
                "water": {"value": None, "unit": "bbl"},
            },
        ),
        id="volumes",
    ),
    pytest.param(good(well_code=999), id="unknown-well-flagged"),
    pytest.param(good(note="kept", n=1, x=-2.5, ok=True, nothing=None), id="unknown-fields"),
    pytest.param(good(note={"by": ["x", 2]}), id="unknown-field-not-scalar"),
    pytest.param({"partition_0": 1, **good()}, id="audit-fields-in-the-order-sent"),
]


@pytest.mark.parametrize("record", ANSWERED)
@pytest.mark.parametrize("enrich_on", [True, False], ids=["enriched", "no-reference"])
def test_clean_records_are_answered_on_the_clean_path(
    record: dict[str, Any], enrich_on: bool
) -> None:
    item = message(record, offset=5, correlation_id="c-1")
    assert assert_agree(item, REFERENCE if enrich_on else None)


#: Decimal texts whose nearest float is hard to find (halfway cases, subnormals, more
#: digits than a float holds), all within the ceilings as oil volumes in bbl.
HARD_TO_ROUND = [
    "2.2250738585072011e-308",
    "4.9406564584124654e-324",
    "9007199254740993e-10",
    "0.1000000000000000055511151231257827",
    "1.00000000000000011102230246251565404236316680908203125",
    "123456789012345678901234567890e-25",
    "1448997445238699e-11",
    "89255.0e-22",
    "1E+4",
]


@pytest.mark.parametrize("text", HARD_TO_ROUND)
def test_numbers_are_read_as_the_explaining_path_reads_them(text: str) -> None:
    value = (
        b'{"well_code":"W1","production_period":"2024-01","days_on_production":30,'
        b'"volumes":{"oil":{"value":%s,"unit":"bbl"}},"oil_production_kbd":"%s"}'
        % (text.encode(), text.encode())
    )
    assert assert_agree(message(value), None)


LEFT = [
    pytest.param(b"\xef\xbb\xbf" + json.dumps(good()).encode(), id="byte-order-mark"),
    pytest.param(
        json.dumps(good(well_name="Po\xe7o"), ensure_ascii=False).encode("latin-1"), id="latin-1"
    ),
    pytest.param(json.dumps(good(oil_production_kbd=-1.5)).encode(), id="negative"),
    pytest.param(json.dumps(good(oil_production_kbd=10**6)).encode(), id="beyond-ceiling"),
    pytest.param(json.dumps(good(oil_production_kbd="NaN")).encode(), id="nan"),
    pytest.param(json.dumps(good(well_code=2**64)).encode(), id="code-beyond-64-bits"),
    pytest.param(json.dumps(good(revision="3")).encode(), id="revision-as-text"),
    pytest.param(json.dumps(good(production_period="2024-13")).encode(), id="bad-period"),
    pytest.param(json.dumps(good(production_period="2031-01")).encode(), id="future-period"),
    pytest.param(json.dumps(good(days_on_production=0)).encode(), id="volumes-no-time"),
    pytest.param(json.dumps(good(days_on_production=32)).encode(), id="time-over-period"),
    pytest.param(
        json.dumps(good(volumes={"oil": {"value": 1, "unit": "gal"}})).encode(), id="unknown-unit"
    ),
    pytest.param(
        json.dumps(good(volumes={"condensate": {"value": 1, "unit": "bbl"}})).encode(),
        id="unknown-stream",
    ),
    pytest.param(
        json.dumps(good(volumes={"oil": {"value": "1", "unit": "bbl"}})).encode(),
        id="volume-as-text",
    ),
    pytest.param(b"[1, 2]", id="not-an-object"),
    pytest.param(b"{", id="not-json"),
]


@pytest.mark.parametrize("value", LEFT)
def test_anything_in_doubt_is_left_to_the_explaining_path(value: bytes) -> None:
    assert clean(message(value), REFERENCE) is None


def test_an_unknown_well_is_left_to_the_explaining_path_when_the_policy_rejects_it() -> None:
    item = message(good(well_code=999))
    assert clean(item, REFERENCE) is not None
    assert clean(item, REFERENCE, Policy(overrides={"unknown_well": "reject"})) is None


def test_the_benchmark_records_are_answered_on_the_clean_path() -> None:
    items = [
        RawMessage(value, "production.raw.v1", 0, i, 1_750_000_000_123)
        for i, value in enumerate(raw_records(400, seed=3))
    ]
    reference: Reference = {"BW-0": WellRef(well_code="BW-00000", operator="op")}
    assert all(assert_agree(item, reference) for item in items)


def test_a_reference_object_replaced_between_batches_is_resolved_again() -> None:
    item = message(good())
    first = clean(item, {"1234": WellRef(well_code="1234", operator="A")})
    second = clean(item, {"1234": WellRef(well_code="1234", operator="B")})
    unknown = clean(item, {"1234": None})
    assert first is not None
    assert b'"operator":"A"' in first
    assert second is not None
    assert b'"operator":"B"' in second
    assert unknown is not None
    assert b'"unknown_well"' in unknown


def test_batches_in_several_threads_agree() -> None:
    items = [message(good(production_period=f"2023-{m:02}")) for m in range(1, 13)]
    expected = process_batch(items, POLICY, REFERENCE, NOW).normalized
    results: list[list[Normalized]] = []

    def work() -> None:
        for _ in range(50):
            results.append(process_batch(items, POLICY, REFERENCE, NOW).normalized)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 200
    assert all(result == expected for result in results)


_NUMBERS: list[Any] = [0, 0.0, 1, 2.5, 31, 1e-7, 249.99, 250, 250.0001, "1.5", "1E+2", "2.5e-3"]
_NUMBERS += ["", " ", ".5", "5.", "1_0", "-1", "+1", "nan", None, True, -0.0, 1.2e5, 0.1 + 0.2]
_CODES: list[Any] = [1234, "1234", " 01234 ", "7-MRL-123D-RJS", "", -5, "Poço", 10**19, None, 1.0]
_PERIODS: list[Any] = ["2024-01", "2024-02-29", "2023-02-29", "2024-13", " 2024-01 ", 202401]
_PERIODS += ["2024-03-31T00:00:00+02:00", "2024-03-31T01:00:00", "2031-01", "2025-06-16"]
_UNITS: list[Any] = ["bbl", "Sm3", "m3", "scf", "Mcf", "MMcf", "mcf", " bbl ", "barrels", None, 5]
_EXTRAS: list[Any] = ["x", 1, -2, 2.5, -0.0, True, None, 10**20, "é\n", {"a": 1}, [1], 1e300]
_RATES = ["oil_production_kbd", "gas_production_mmcfd", "water_production_kbd"]
_RATES += ["liquids_production_kbd", "days_on_production"]


def _random_record(rng: random.Random) -> bytes:
    """A seed record changed a few times at random, its keys shuffled, written in one of
    several JSON styles."""
    record = good()
    for _ in range(rng.randint(0, 6)):
        roll = rng.random()
        if roll < 0.4:
            record[rng.choice(_RATES)] = rng.choice(_NUMBERS)
        elif roll < 0.5:
            record[rng.choice(["well_code", "field_code"])] = rng.choice(_CODES)
        elif roll < 0.6:
            record["production_period"] = rng.choice(_PERIODS)
        elif roll < 0.75:
            streams = rng.sample(["oil", "gas", "water", "liquids", "condensate"], 2)
            record["volumes"] = {
                s: {"value": rng.choice(_NUMBERS), "unit": rng.choice(_UNITS)} for s in streams
            }
        elif roll < 0.9:
            record[rng.choice(["note", "source_data", "partition_0", "é"])] = rng.choice(_EXTRAS)
        else:
            record.pop(rng.choice(list(record)))
    keys = list(record)
    rng.shuffle(keys)
    shuffled = {key: record[key] for key in keys}
    return json.dumps(
        shuffled, ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, 1])
    ).encode()


@pytest.mark.parametrize("seed", range(4))
def test_random_records_read_alike_on_both_paths(seed: int) -> None:
    rng = random.Random(seed)
    answered = sum(
        assert_agree(RawMessage(_random_record(rng)), REFERENCE if i % 2 else None)
        for i in range(1_000)
    )
    assert answered > 200, "the generator should give the clean path work"
