"""Validation rules as data: a code, a severity (reject or flag), a message, thresholds.

A record collects every finding: ``reject`` findings become the errors of its dead
letter, ``flag`` findings its quality ``flags``. Thresholds and severity overrides come
from settings through ``Policy``; rules that decide whether a record can be read at all
(``adjustable=False``) always reject.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, Final, Literal, NamedTuple

from contracts import ErrorCode, ErrorDetail
from contracts.identifiers import DEFAULT_ORGANISATION, MAX_REVISION, code_problem
from contracts.units import Quantity

Severity = Literal["reject", "flag"]

#: The longest well name, field name or well reference kept, in characters (codes and
#: data sources: ``contracts.identifiers.MAX_CODE_LENGTH``).
MAX_NAME_LENGTH: Final = 256


class Flag(StrEnum):
    """Codes of the odd-but-real findings a kept record carries in ``flags``."""

    NEGATIVE_VOLUME = "negative_volume"
    PRODUCING_TIME_OVER_PERIOD = "producing_time_over_period"
    VOLUME_WITHOUT_PRODUCING_TIME = "volume_without_producing_time"
    SPLIT_ACROSS_FIELDS = "split_across_fields"
    NO_VOLUMES = "no_volumes"
    IDENTIFIER_NORMALIZED = "identifier_normalized"
    UNKNOWN_VOLUME_STREAM = "unknown_volume_stream"
    LATIN1_DECODED = "latin1_decoded"
    UNKNOWN_WELL = "unknown_well"


class Rule(NamedTuple):
    code: str
    severity: Severity
    message: str
    adjustable: bool = True


_RULES: Final = (
    Rule(ErrorCode.UNPARSEABLE_JSON, "reject", "not valid JSON", adjustable=False),
    Rule(ErrorCode.NOT_AN_OBJECT, "reject", "not a JSON object", adjustable=False),
    Rule(ErrorCode.MISSING_FIELD, "reject", "{field} is required", adjustable=False),
    Rule(ErrorCode.INVALID_VALUE, "reject", "{field}: {problem}", adjustable=False),
    Rule(ErrorCode.INVALID_PERIOD, "reject", "{value!r} is not YYYY-MM, YYYY-MM-DD or midnight"),
    Rule(ErrorCode.UNKNOWN_UNIT, "reject", "{field}: unit {value!r} {problem}", adjustable=False),
    Rule(ErrorCode.FUTURE_PERIOD, "reject", "period {value} starts after {limit}"),
    Rule(
        ErrorCode.PRODUCING_TIME_EXCEEDED,
        "reject",
        "{value:g} producing days is more than {limit:g} ({tolerance:.0%} over the period)",
    ),
    Rule(ErrorCode.RATE_CEILING_EXCEEDED, "reject", "{field} {value:g} beyond ceiling {limit:g}"),
    Rule(Flag.NEGATIVE_VOLUME, "flag", "{field} is negative (an allocation correction)"),
    Rule(Flag.PRODUCING_TIME_OVER_PERIOD, "flag", "{value:g} producing days over {limit}"),
    Rule(Flag.VOLUME_WITHOUT_PRODUCING_TIME, "flag", "volumes reported with no producing time"),
    Rule(
        Flag.SPLIT_ACROSS_FIELDS,
        "flag",
        "the well reports to several fields this period",
        adjustable=False,
    ),
    Rule(Flag.NO_VOLUMES, "flag", "no volume measured (e.g. an injection row)"),
    Rule(Flag.IDENTIFIER_NORMALIZED, "flag", "{field} {value!r} normalized"),
    Rule(Flag.UNKNOWN_VOLUME_STREAM, "flag", "volumes.{value} is not a known stream; kept"),
    Rule(Flag.LATIN1_DECODED, "flag", "the message was not UTF-8; read as Latin-1"),
    Rule(Flag.UNKNOWN_WELL, "flag", "well {value!r} is not in the reference data"),
)
RULES: Final[dict[str, Rule]] = {rule.code: rule for rule in _RULES}


@dataclass(frozen=True, slots=True)
class Policy:
    """Thresholds and effective severities; built once from settings."""

    producing_time_tolerance: float = 0.25
    future_grace_days: int = 1
    #: Plausible rate ceilings: kbd for liquids, MMcf/d for gas.
    ceilings: Mapping[Quantity, float] = field(
        default_factory=lambda: {
            Quantity.OIL: 250.0,
            Quantity.LIQUIDS: 250.0,
            Quantity.WATER: 500.0,
            Quantity.GAS: 1_500.0,
        }
    )
    overrides: Mapping[str, Severity] = field(default_factory=dict)
    #: The owner of a record that names none.
    default_organisation: str = DEFAULT_ORGANISATION
    severities: Mapping[str, Severity] = field(init=False)

    def __post_init__(self) -> None:
        for code in self.overrides:
            rule = RULES.get(code)
            if rule is None or not rule.adjustable:
                known = sorted(c for c, r in RULES.items() if r.adjustable)
                raise ValueError(f"cannot set the severity of {code!r}; adjustable: {known}")
        effective = {code: self.overrides.get(code, rule.severity) for code, rule in RULES.items()}
        object.__setattr__(self, "severities", effective)

    def latest_start(self, today: date) -> date:
        return today + timedelta(days=self.future_grace_days)


class Findings:
    """What one record's checks found: errors (rejections) and flags."""

    __slots__ = ("errors", "flags", "severities")

    def __init__(self, policy: Policy, flags: list[str] | None = None) -> None:
        self.severities = policy.severities
        self.errors: list[ErrorDetail] = []
        self.flags: list[str] = flags if flags is not None else []

    def add(self, code: str, field: str | None = None, **values: Any) -> None:
        if self.severities[code] == "flag":
            if code not in self.flags:
                self.flags.append(code)
            return
        message = RULES[code].message.format(field=field, **values)
        self.errors.append(ErrorDetail(field=field, code=code, message=message))


def check_producing_time(days_on: float | None, days: int, policy: Policy, out: Findings) -> None:
    if days_on is None:
        return
    if days_on < 0:
        out.add(ErrorCode.INVALID_VALUE, "days_on_production", problem="negative")
    elif days_on > days:
        limit = days * (1 + policy.producing_time_tolerance)
        if days_on > limit:
            tolerance = policy.producing_time_tolerance
            code = ErrorCode.PRODUCING_TIME_EXCEEDED
            out.add(code, "days_on_production", value=days_on, limit=limit, tolerance=tolerance)
        else:
            out.add(
                Flag.PRODUCING_TIME_OVER_PERIOD, "days_on_production", value=days_on, limit=days
            )


def check_rate(
    quantity: Quantity, name: str, rate: float | None, policy: Policy, out: Findings
) -> None:
    if rate is None:
        return
    if rate < 0:
        out.add(Flag.NEGATIVE_VOLUME, name)
    limit = policy.ceilings[quantity]
    if abs(rate) > limit:
        out.add(ErrorCode.RATE_CEILING_EXCEEDED, name, value=rate, limit=limit)


def check_rates(
    fields: Sequence[tuple[Quantity, str]],
    rates: Sequence[float | None],
    policy: Policy,
    out: Findings,
) -> None:
    """``check_rate`` of each rate, with its (stream, field) in ``fields``; asked only of a
    rate it has something to say of (negative, or beyond its ceiling)."""
    ceilings = policy.ceilings
    for (quantity, name), rate in zip(fields, rates):  # noqa: B905  # strict= costs a call
        if rate is not None and not 0 <= rate <= ceilings[quantity]:
            check_rate(quantity, name, rate, policy, out)


def check_totals(totals: tuple[float | None, ...], days_on: float | None, out: Findings) -> None:
    if totals.count(None) == len(totals):
        out.add(Flag.NO_VOLUMES)
    elif days_on == 0 and any(totals):  # a total other than 0 (None counts as none)
        out.add(Flag.VOLUME_WITHOUT_PRODUCING_TIME, "days_on_production")


def check_revision(revision: int, out: Findings) -> None:
    if revision > MAX_REVISION:
        out.add(ErrorCode.INVALID_VALUE, "revision", problem=f"more than {MAX_REVISION}")


def check_code(field: str, text: str, out: Findings) -> bool:
    """False, with a finding, when ``text`` cannot be a code (``code_problem``): too
    long, or holding a control or invisible character."""
    problem = code_problem(text)
    if problem is None:
        return True
    out.add(ErrorCode.INVALID_VALUE, field, problem=problem)
    return False


def check_name(field: str, text: str | None, out: Findings) -> None:
    if text is not None and len(text) > MAX_NAME_LENGTH:
        out.add(ErrorCode.INVALID_VALUE, field, problem=f"longer than {MAX_NAME_LENGTH} characters")
