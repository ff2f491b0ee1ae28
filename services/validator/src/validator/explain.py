"""The explaining path: every rule over a record pydantic read, every finding collected.

It takes the steps of ``canonical`` one by one and goes on after a finding, so a rejected
record's dead letter lists every reason at once; a kept record is the one the clean path
would have made (``tests/unit/validator/test_clean.py`` holds them to it).
"""

from collections.abc import Mapping
from typing import Any

from contracts import ErrorDetail
from contracts.records import CanonicalRecord
from validator.canonical import (
    STREAM_NAMES,
    STREAMS,
    Audit,
    Clock,
    Sent,
    assemble,
    dated,
    identity,
    measure,
)
from validator.enrich import WellRef, enrich
from validator.messages import RawMessage
from validator.parse import Fields, Rejected, decode, fields_of
from validator.rules import (
    Findings,
    Flag,
    Policy,
    check_producing_time,
    check_revision,
    check_totals,
)


def explain(
    message: RawMessage,
    policy: Policy,
    reference: Mapping[str, WellRef | None] | None,
    clock: Clock,
) -> CanonicalRecord | list[ErrorDetail]:
    """The message's canonical record, or every reason it has none."""
    try:
        obj, latin1 = decode(message.value)
        fields = fields_of(obj)
    except Rejected as exc:
        return exc.errors
    out = Findings(policy, [Flag.LATIN1_DECODED.value] if latin1 else [])
    record = build(fields, out, policy, reference, message, clock)
    return out.errors if record is None or out.errors else record


def build(
    fields: Fields,
    out: Findings,
    policy: Policy,
    reference: Mapping[str, WellRef | None] | None,
    message: RawMessage,
    clock: Clock,
) -> CanonicalRecord | None:
    """The canonical record of ``fields``, or None when a finding rejects it (or its
    period cannot be read). Every check runs, so ``out`` holds every finding."""
    well = identity(Sent._make(map(fields.__getitem__, Sent._fields)), policy, out)
    period, days = dated(fields["production_period"], policy, clock.today, out)
    check_revision(fields["revision"], out)
    days_on = fields["days_on_production"]
    if days:
        check_producing_time(days_on, days, policy, out)
    rates = tuple(fields[rate_field] for _, _, rate_field, _ in STREAMS)
    measured = measure(days_on, rates, fields["volumes"], days, policy, out)
    extra = _with_unknown_streams(fields, out)
    check_totals(measured.totals, days_on, out)
    if reference is not None:
        enrich(well, reference.get(well.well_code), out)
    if out.errors or period is None:
        return None
    audit = Audit(fields["revision"], out.flags, extra)
    return assemble(well, period, measured, audit, message, clock)


def _with_unknown_streams(fields: Fields, out: Findings) -> dict[str, Any]:
    """The unknown fields, with any ``volumes`` entry that is not a known stream (a
    finding), kept as sent."""
    volumes = fields["volumes"] or {}
    unknown = {k: _as_sent(v) for k, v in volumes.items() if k not in STREAM_NAMES}
    for name in unknown:
        out.add(Flag.UNKNOWN_VOLUME_STREAM, value=name)
    extra: dict[str, Any] = fields["extra"]
    return {**extra, "volumes": unknown} if unknown else extra


def _as_sent(volume: Any) -> Any:
    return None if volume is None else {"value": volume.value, "unit": volume.unit}
