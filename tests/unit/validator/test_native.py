"""The native fast path answers only where the full path agrees, byte for byte, and gives
back everything else untouched, in order."""

import json
import random
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.unit.validator.conftest import DROP, NOW, good, message
from tests.unit.validator.test_properties import POLICY, REFERENCE, changes, full_path, raw_value
from validator import native
from validator.enrich import WellRef
from validator.fastpath import FastPath
from validator.pipeline import LAST_ACCEPTED_MS, process_batch
from validator.rules import Policy
from validator.structs import ENCODER, Normalized, RawMessage
from wellstream.bench.data import raw_records


def native_path(
    messages: list[RawMessage], reference: dict[str, WellRef] | None, policy: Policy = POLICY
) -> tuple[list[Normalized], list[tuple[str, str, str]], dict[str, int], list[RawMessage]]:
    normalized: list[Normalized] = []
    keys: list[tuple[str, str, str]] = []
    flags: dict[str, int] = {}
    path = FastPath(policy, NOW, reference)
    left = native.run(path, messages, reference, normalized, keys, flags)
    return normalized, keys, flags, left


def python_fast_path(item: RawMessage, reference: dict[str, WellRef] | None) -> bytes | None:
    record = FastPath(POLICY, NOW, reference).record(item)
    return None if record is None else ENCODER.encode(record)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes, st.booleans(), st.sampled_from(["none", "first", "last"]))
def test_the_native_path_agrees_with_the_full_path(
    change: dict[str, Any], enrich_on: bool, audit: str
) -> None:
    if audit == "none":
        change.setdefault("source_data", DROP)
    value = raw_value(change, audit_last=audit == "last")
    reference = REFERENCE if enrich_on else None
    normalized, _, _, left = native_path([RawMessage(value)], reference)
    if left:
        assert left == [RawMessage(value)]
        assert normalized == []
        return
    full = full_path(value, reference)
    assert full is not None, "the native path kept a record the full path rejects"
    assert normalized[0].body == ENCODER.encode(full)
    assert normalized[0].body == python_fast_path(RawMessage(value), reference)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=LAST_ACCEPTED_MS))
@example(0)
@example(951_782_400_000)  # 2000-02-29
@example(4_107_542_399_999)  # 2100-02-28T23:59:59.999, not a leap year
@example(LAST_ACCEPTED_MS)
def test_the_time_accepted_is_written_as_python_writes_it(ms: int) -> None:
    item = message(good(), accepted_ms=ms)
    normalized, _, _, left = native_path([item], None)
    assert left == []
    assert normalized[0].body == python_fast_path(item, None)


ANSWERED = [
    pytest.param(good(), id="seed-rates"),
    pytest.param(good(source_data=DROP), id="no-audit-fields"),
    pytest.param(good(partition_0=3, source_data=None), id="audit-fields"),
    pytest.param(good(well_code=" 001234 ", field_code="077"), id="padded-codes"),
    pytest.param(good(oil_production_kbd="1.25", days_on_production="30"), id="numeric-strings"),
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
                "gas": {"value": "250.5", "unit": "MMcf"},
                "water": {"value": None, "unit": "bbl"},
            },
        ),
        id="volumes",
    ),
    pytest.param(good(well_code=999), id="unknown-well-flagged"),
    pytest.param(good(note="kept", n=1, x=-2.5, ok=True, nothing=None), id="unknown-fields"),
    pytest.param({"partition_0": 1, **good()}, id="audit-fields-in-the-order-sent"),
]


@pytest.mark.parametrize("record", ANSWERED)
@pytest.mark.parametrize("enrich_on", [True, False], ids=["enriched", "no-reference"])
def test_clean_records_are_answered_natively(record: dict[str, Any], enrich_on: bool) -> None:
    reference = REFERENCE if enrich_on else None
    item = message(record, offset=5, correlation_id="c-1")
    normalized, keys, _, left = native_path([item], reference)
    assert left == []
    assert normalized[0].body == python_fast_path(item, reference)
    assert normalized[0].correlation_id == "c-1"
    assert keys[0][0] == normalized[0].key


#: Decimal texts whose nearest float is hard to find (halfway cases, subnormals, more
#: digits than a float holds), all within the ceilings as oil volumes in bbl.
HARD_TO_ROUND = [
    "2.2250738585072011e-308",
    "4.9406564584124654e-324",
    "2.4703282292062328e-324",
    "9007199254740993e-10",
    "0.1000000000000000055511151231257827",
    "1.00000000000000011102230246251565404236316680908203125",
    "123456789012345678901234567890e-25",
    "7.038531e-26",
    "1448997445238699e-11",
    "3.0000000000000004440892098500626",
    "89255.0e-22",
    "1E+4",
]


@pytest.mark.parametrize("text", HARD_TO_ROUND)
@pytest.mark.parametrize("as_string", [False, True], ids=["number", "string"])
def test_numbers_are_read_as_python_reads_them(text: str, as_string: bool) -> None:
    number = f'"{text}"' if as_string else text
    value = (
        b'{"well_code":"W1","production_period":"2024-01","days_on_production":30,'
        b'"volumes":{"oil":{"value":%s,"unit":"bbl"}}}' % number.encode()
    )
    item = message(value)
    normalized, _, _, left = native_path([item], None)
    assert left == []
    assert normalized[0].body == python_fast_path(item, None)


HANDED_BACK = [
    pytest.param(json.dumps(good(note={"by": "x"})).encode(), id="unknown-field-not-scalar"),
    pytest.param(json.dumps(good(note=-0.0)).encode(), id="unknown-field-negative-zero"),
    pytest.param(b'{"well_code":1,"production_period":"2024-01","a":1,"a":2}', id="dup-unknown"),
    pytest.param(json.dumps(good(source_data=["a"])).encode(), id="array-anywhere"),
    pytest.param(b"\xef\xbb\xbf" + json.dumps(good()).encode(), id="byte-order-mark"),
    pytest.param(
        json.dumps(good(well_name="Po\xe7o"), ensure_ascii=False).encode("latin-1"), id="latin-1"
    ),
    pytest.param(b'{"well_code": 1, "well_code": 2, "production_period": "2024-01"}', id="dup"),
    pytest.param(
        b'{"well_code":1234,"production_period":"2024-01","oil_production_kbd":-0}',
        id="negative-zero",
    ),
    pytest.param(json.dumps(good(oil_production_kbd=" 1.5 ")).encode(), id="padded-number"),
    pytest.param(json.dumps(good(oil_production_kbd="1_0")).encode(), id="underscore-number"),
    pytest.param(json.dumps(good(oil_production_kbd=-1.5)).encode(), id="negative"),
    pytest.param(json.dumps(good(oil_production_kbd=10**6)).encode(), id="beyond-ceiling"),
    pytest.param(json.dumps(good(well_code=2**64)).encode(), id="code-beyond-64-bits"),
    pytest.param(json.dumps(good(days_on_production=2**53 + 1)).encode(), id="beyond-2^53"),
    pytest.param(json.dumps(good(partition_0=2**70)).encode(), id="audit-beyond-64-bits"),
    pytest.param(json.dumps(good(revision="3")).encode(), id="revision-as-text"),
    pytest.param(json.dumps(good(production_period="2024-13")).encode(), id="bad-period"),
    pytest.param(json.dumps(good(production_period="2031-01")).encode(), id="future-period"),
    pytest.param(json.dumps(good(days_on_production=0)).encode(), id="volumes-no-time"),
    pytest.param(
        json.dumps(good(volumes={"oil": {"value": 1, "unit": "gal"}})).encode(), id="unknown-unit"
    ),
    pytest.param(b"[1, 2]", id="not-an-object"),
    pytest.param(b"{", id="not-json"),
]


@pytest.mark.parametrize("value", HANDED_BACK)
def test_anything_in_doubt_is_handed_back_untouched(value: bytes) -> None:
    items = [message(good(), offset=0), message(value, offset=1), message(good(), offset=2)]
    normalized, _, _, left = native_path(items, REFERENCE)
    assert left == [items[1]]
    assert len(normalized) == 2


def test_an_unknown_well_is_handed_back_when_the_policy_rejects_it() -> None:
    strict = Policy(overrides={"unknown_well": "reject"})
    item = message(good(well_code=999))
    assert native_path([item], REFERENCE, strict)[3] == [item]


def test_flags_are_counted_into_the_batch() -> None:
    items = [
        message(good(well_code=999, production_period=f"2024-0{m}", days_on_production=28))
        for m in range(1, 4)
    ]
    items.append(message(good(well_code="01234")))
    flags = native_path(items, REFERENCE)[2]
    assert flags == {"unknown_well": 3, "identifier_normalized": 1}


def test_the_benchmark_records_are_answered_natively_as_python_writes_them() -> None:
    items = [
        RawMessage(value, "production.raw.v1", 0, i, 1_750_000_000_123)
        for i, value in enumerate(raw_records(400, seed=3))
    ]
    reference = {"BW-0": WellRef(well_code="BW-00000", operator="op")}
    normalized, _, _, left = native_path(items, reference)
    assert left == []
    assert [n.body for n in normalized] == [python_fast_path(i, reference) for i in items]


def test_a_reference_object_replaced_between_batches_is_resolved_again() -> None:
    item = message(good())
    first = native_path([item], {"1234": WellRef(well_code="1234", operator="A")})[0]
    second = native_path([item], {"1234": WellRef(well_code="1234", operator="B")})[0]
    assert b'"operator":"A"' in first[0].body
    assert b'"operator":"B"' in second[0].body


def test_each_thread_has_its_own_native_path() -> None:
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
def test_random_records_read_alike_on_every_path(seed: int) -> None:
    rng = random.Random(seed)
    answered = 0
    for i in range(1_000):
        value = _random_record(rng)
        reference = REFERENCE if i % 2 else None
        normalized, _, _, left = native_path([RawMessage(value)], reference)
        if left:
            continue
        answered += 1
        full = full_path(value, reference)
        assert full is not None, value
        assert normalized[0].body == ENCODER.encode(full), value
        assert normalized[0].body == python_fast_path(RawMessage(value), reference), value
    assert answered > 200, "the generator should give the native path work"
