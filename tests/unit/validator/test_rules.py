"""Rules as data: severities and thresholds come from settings; every finding is kept."""

from typing import Any

import pytest

from contracts import ErrorCode
from contracts.records import decode_canonical
from contracts.units import Quantity
from runtime.settings import SettingsError, load
from tests.unit.validator.conftest import NOW, good, message
from validator.app import policy_of
from validator.config import ValidatorSettings
from validator.enrich import WellRef
from validator.pipeline import Processed, process_batch
from validator.rules import RULES, Flag, Policy


def run(body: dict[str, Any], policy: Policy, reference: Any = None) -> Processed:
    return process_batch([message(body)], policy, reference, NOW)


def test_every_rule_has_a_code_a_severity_and_a_message() -> None:
    for code, rule in RULES.items():
        assert rule.code == code
        assert rule.severity in ("reject", "flag")
        assert rule.message
    # Codes no rule finds: the writer's, the ingestor's limits on intake, and a stage's
    # own failure on one message (the handler's, not a finding), and the ingestor's
    # refusal of a record naming another owner than its key's.
    others = {
        ErrorCode.INSERT_REJECTED,
        ErrorCode.RECORD_TOO_LARGE,
        ErrorCode.LIMIT_EXCEEDED,
        ErrorCode.PROCESSING_FAILED,
        ErrorCode.MESSAGE_TOO_LARGE,
        ErrorCode.ORGANISATION_MISMATCH,
    }
    assert {c.value for c in ErrorCode} - others <= set(RULES)


@pytest.mark.parametrize(
    ("policy", "body", "rejected"),
    [
        pytest.param(Policy(), good(oil_production_kbd=200), False, id="default-ceiling"),
        pytest.param(
            Policy(ceilings={**Policy().ceilings, Quantity.OIL: 100.0}),
            good(oil_production_kbd=200),
            True,
            id="lower-ceiling",
        ),
        pytest.param(
            Policy(producing_time_tolerance=0.0),
            good(days_on_production=32),
            True,
            id="no-tolerance",
        ),
        pytest.param(
            Policy(overrides={ErrorCode.PRODUCING_TIME_EXCEEDED: "flag"}),
            good(days_on_production=60),
            False,
            id="exceeded-time-only-flagged",
        ),
        pytest.param(
            Policy(overrides={Flag.NEGATIVE_VOLUME: "reject"}),
            good(oil_production_kbd=-1),
            True,
            id="negatives-rejected",
        ),
        pytest.param(
            Policy(future_grace_days=400), good(production_period="2026-01"), False, id="grace"
        ),
    ],
)
def test_thresholds_and_severities_come_from_the_policy(
    policy: Policy, body: dict[str, Any], rejected: bool
) -> None:
    result = run(body, policy)
    assert (len(result.rejected), len(result.normalized)) == ((1, 0) if rejected else (0, 1))


def test_a_flag_made_fatal_carries_its_own_code() -> None:
    result = run(good(oil_production_kbd=-1), Policy(overrides={Flag.NEGATIVE_VOLUME: "reject"}))
    assert [e.code for e in result.rejected[0].dead_letter.errors] == [Flag.NEGATIVE_VOLUME]


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(ErrorCode.UNPARSEABLE_JSON, id="structural"),
        pytest.param("no_such_rule", id="unknown"),
        pytest.param(Flag.SPLIT_ACROSS_FIELDS, id="batch-level"),
    ],
)
def test_only_adjustable_rules_can_change_severity(code: str) -> None:
    with pytest.raises(ValueError, match="cannot set the severity"):
        Policy(overrides={code: "flag"})


def test_a_bad_severity_setting_stops_start_up_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WELLSTREAM_RULE_SEVERITIES", '{"unparseable_json": "flag"}')
    with pytest.raises(SettingsError, match="WELLSTREAM_RULE_SEVERITIES"):
        load(ValidatorSettings)


def test_settings_become_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WELLSTREAM_MAX_GAS_MMCFD", "10")
    monkeypatch.setenv("WELLSTREAM_RULE_SEVERITIES", '{"unknown_well": "reject"}')
    policy = policy_of(load(ValidatorSettings))
    assert policy.ceilings[Quantity.GAS] == 10.0
    assert policy.severities["unknown_well"] == "reject"
    assert policy.severities["negative_volume"] == "flag"


REFERENCE = {
    "1234": WellRef(
        well_code="01234",
        well_name="MRL-123D (ref)",
        well_reference="7-MRL-123D-RJS",
        field_code="077",
        field_name="Marlim",
        operator="Petrobras",
        basin="Campos",
        country="BR",
        status="producing",
    )
}


def test_enrichment_fills_what_the_record_lacks() -> None:
    body = good(field_code=None, field_name=None, well_name="sent name")
    record = decode_canonical(run(body, Policy(), REFERENCE).normalized[0].body)
    assert (record.operator, record.basin, record.country) == ("Petrobras", "Campos", "BR")
    assert record.well_status == "producing"
    assert (record.field_code, record.field_name) == ("77", "Marlim")
    assert record.well_name == "sent name", "what upstream sent wins"
    assert record.well_reference == "7-MRL-123D-RJS"
    assert record.flags == []


def test_a_field_name_is_only_taken_for_its_own_field() -> None:
    body = good(field_code="99", field_name=None)
    record = decode_canonical(run(body, Policy(), REFERENCE).normalized[0].body)
    assert (record.field_code, record.field_name) == ("99", None)
    assert record.operator == "Petrobras"


@pytest.mark.parametrize(
    ("policy", "outcome"),
    [
        pytest.param(Policy(), "flagged", id="default-flag"),
        pytest.param(Policy(overrides={Flag.UNKNOWN_WELL: "reject"}), "rejected", id="strict"),
    ],
)
def test_an_unknown_well_is_flagged_or_rejected_when_strict(policy: Policy, outcome: str) -> None:
    result = run(good(well_code="NOT-LOADED"), policy, REFERENCE)
    if outcome == "rejected":
        assert [e.code for e in result.rejected[0].dead_letter.errors] == [Flag.UNKNOWN_WELL]
    else:
        record = decode_canonical(result.normalized[0].body)
        assert record.flags == [Flag.UNKNOWN_WELL]
        assert record.operator is None


def test_without_reference_data_no_well_is_called_unknown() -> None:
    record = decode_canonical(run(good(), Policy()).normalized[0].body)
    assert Flag.UNKNOWN_WELL not in record.flags


def test_each_batch_enriches_from_its_own_reference_data() -> None:
    """The fast path keeps a well's resolved enrichment between batches: a reload of the
    reference data, a well gone from it or enrichment turned off must still show."""
    moved = {"1234": REFERENCE["1234"].model_copy(update={"operator": "Equinor"})}
    body = good(field_code=None)
    outcomes = []
    for reference in (REFERENCE, moved, {}, None, REFERENCE):
        record = decode_canonical(run(body, Policy(), reference).normalized[0].body)
        outcomes.append((record.operator, record.field_code, record.flags))
    assert outcomes == [
        ("Petrobras", "77", []),
        ("Equinor", "77", []),
        (None, "", [Flag.UNKNOWN_WELL]),
        (None, "", []),
        ("Petrobras", "77", []),
    ]
