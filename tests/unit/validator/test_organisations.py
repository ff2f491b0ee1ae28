"""A record's owner: the organisation it names, else the policy's default; both paths
agree, and the owner is part of the record's identity."""

import pytest

from contracts.identifiers import record_id
from contracts.records import CanonicalRecord, decode_canonical
from tests.unit.validator.conftest import NOW, good, message
from tests.unit.validator.test_clean import POLICY, clean, explained
from validator.canonical import Clock
from validator.explain import explain
from validator.pipeline import process_batch
from validator.rules import Policy


def kept(body: dict[str, object], policy: Policy = POLICY) -> CanonicalRecord:
    result = process_batch([message(body)], policy, None, NOW)
    assert not result.rejected, result.rejected
    (item,) = result.normalized
    return decode_canonical(item.body)


@pytest.mark.parametrize(
    ("sent", "owner"),
    [
        pytest.param({}, "default", id="absent"),
        pytest.param({"organisation": ""}, "default", id="blank"),
        pytest.param({"organisation": None}, "default", id="null"),
        pytest.param({"organisation": "acme"}, "acme", id="named"),
    ],
)
def test_the_owner_is_the_one_named_else_the_default(sent: dict[str, object], owner: str) -> None:
    record = kept(good(**sent))
    assert record.organisation == owner
    key = (record.well_code, record.field_code, record.period, record.period_type)
    assert record.record_id == record_id(*key, record.data_source, owner)


def test_the_default_organisations_ids_are_those_of_records_before_owners() -> None:
    record = kept(good())
    legacy = record_id(record.well_code, record.field_code, "2024-01", "month", "anp", "default")
    assert record.record_id == legacy


def test_two_owners_of_one_well_keep_two_records() -> None:
    first, second = kept(good(organisation="acme")), kept(good(organisation="globex"))
    assert first.record_id != second.record_id
    assert first.well_code == second.well_code


def test_a_configured_default_owns_what_names_none() -> None:
    record = kept(good(), Policy(default_organisation="acme"))
    assert record.organisation == "acme"
    assert record.record_id == kept(good(organisation="acme")).record_id


def test_both_paths_agree_on_the_owner() -> None:
    item = message(good(organisation="acme"))
    body = clean(item, None)
    assert body is not None
    assert body == explained(item, None)


def test_an_owner_no_code_could_be_is_refused_with_its_reason() -> None:
    result = explain(message(good(organisation="ac\x00me")), POLICY, None, Clock(NOW))
    assert not isinstance(result, CanonicalRecord)
    assert [(e.field, e.code) for e in result] == [("organisation", "invalid_value")]


def test_a_rejected_record_is_a_dead_letter_of_its_owner() -> None:
    bad = good(organisation="acme", production_period="2024-13")
    (rejection,) = process_batch([message(bad)], POLICY, None, NOW).rejected
    assert rejection.dead_letter.organisation == "acme"
    (unnamed,) = process_batch([message(b"not json")], POLICY, None, NOW).rejected
    assert unnamed.dead_letter.organisation is None  # the writer files it under the default
