"""The Python fast path: a clean record straight from its JSON bytes to its canonical record.

It sees what the native fast path (``native``) hands back: records it is not sure of,
most of them clean all the same (numeric strings with spaces, nested audit data).

Almost every record is clean: plain JSON shapes, canonical identifiers, a valid period,
rates within limits, a known well. For those, msgspec decodes the bytes in C (and checks
that JSON numbers are neither negative nor beyond their ceilings, ``structs.raw_decoder``)
and one flat function does what ``parse.fields_of`` + ``canonical.build`` + enrichment
do, without building findings.
The moment anything is unusual (a value pydantic would have to coerce, any rule that
would flag or reject, except a padded or spaced identifier) it gives up and the full
path decides and explains. A property test checks that both paths give the same record
wherever the fast one answers.

It runs once per record, so it is written for the interpreter: what depends on a well
or a period is computed once, not per record. A well's codes, names and data source, with
its enrichment and the start of its record id's hash, are resolved once per reference
object and kept across batches (``wells``); a period once per batch (``FastPath._period``).
Numbers are checked with plain comparisons on locals, and the canonical record is built
in one go, lineage included, ready to encode.
"""

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Final

import msgspec
import orjson
from msgspec import UNSET

from contracts import SCHEMA_VERSION
from contracts.units import MCF_PER_BOE, SCF_PER_MCF, Quantity, factor_to_canonical
from validator.enrich import WellRef
from validator.normalize import RATE_TO_TOTAL, VERSION_SHIFT, parse_period, unit_of
from validator.parse import KNOWN
from validator.rules import Flag, Policy
from validator.structs import Canonical, Original, Raw, RawMessage, Volume, Volumes, raw_decoder
from validator.wells import OFF, UNKNOWN, sent_of

_STREAMS: Final = ("oil", "gas", "water", "liquids")
_QUANTITIES: Final = (Quantity.OIL, Quantity.GAS, Quantity.WATER, Quantity.LIQUIDS)
#: Per stream, each unit spelling seen and its factor to canonical.
_FACTORS: Final[tuple[dict[str, float], ...]] = ({}, {}, {}, {})
_INFINITY: Final = float("inf")
#: A period, its days as a float (for arithmetic with floats), and its part of the record
#: id's hashed key ("period␟kind␟")
_Period = tuple[str, date, str, int, float, bytes]


class NotClean(Exception):
    """The record needs the full path."""


class FastPath:
    """The fast path for one batch: its limits, reference data and clock, set once.

    ``record(message)`` gives the message's canonical record, lineage included, or None
    when the full path must decide. ``reference`` maps canonical well codes to their
    reference data (None: enrichment off)."""

    __slots__ = (
        "_decode",
        "_ingested",
        "_periods",
        "_raw_type",
        "_reference",
        "ceilings",
        "latest_start",
        "now",
        "unknown_well_flag",
    )

    def __init__(
        self,
        policy: Policy,
        now: datetime,
        reference: Mapping[str, WellRef | None] | None,
    ) -> None:
        oil, gas, water, liquids = (policy.ceilings[q] for q in _QUANTITIES)
        self.ceilings = (oil, gas, water, liquids)
        decoder = raw_decoder(self.ceilings)
        self._decode = decoder.decode
        self._raw_type = decoder.type
        self.latest_start = policy.latest_start(now.date())
        self.now = now
        self._reference = reference
        # Unknown wells are common (reference data is often partial): when the policy only
        # flags them, they stay on the fast path; when it rejects them, the full path says why.
        self.unknown_well_flag = policy.severities[Flag.UNKNOWN_WELL] == "flag"
        self._ingested: dict[int, datetime] = {}
        self._periods: dict[str, _Period] = {}

    def record(
        self,
        message: RawMessage,
        raw: Raw | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Canonical | None:
        """The canonical record of ``message``, lineage included, or None when the full
        path must decide (``raw`` and ``extra``: the message as already read).

        One long function on purpose: it runs once per record, and a call per stream or
        per check would cost more than the checks themselves. JSON numbers arrive
        non-negative and within their ceilings (``structs.raw_decoder``); numeric strings
        are read by ``_number``, which checks the same."""
        try:
            if raw is None:
                raw = self._decode(message[0])  # message.value, without the descriptor
            if extra is None:
                if raw.source_data is UNSET and raw.partition_0 is UNSET:
                    extra = {}
                elif raw.source_data is UNSET or raw.partition_0 is UNSET:
                    extra = _audit_fields(raw)
                else:  # both: kept in the order sent, which only the long way knows
                    return self._with_unknown_fields(message)
            key = (
                raw.well_code,
                raw.field_code,
                raw.field_name,
                raw.well_name,
                raw.well_reference,
                raw.data_source,
            )
            sent = sent_of(key)
            if sent is None:
                return None
            reference = self._reference
            if reference is None:
                well_ref: object = OFF
            else:
                well_ref = reference.get(sent.well)
                if well_ref is None:
                    if not self.unknown_well_flag:
                        return None  # the full path says why
                    well_ref = UNKNOWN
            resolved = sent.resolved
            if resolved[0] is not well_ref:
                resolved = sent.resolve(well_ref)
            (
                _,
                well,
                well_raw,
                field,
                field_name,
                well_reference,
                well_name,
                operator,
                basin,
                country,
                status,
                source,
                flags,
                id_prefix,
                id_source,
            ) = resolved
            text, start, kind, days, span, id_period = self._periods.get(
                raw.production_period
            ) or self._period(raw.production_period)
            # Typed as they will be once read; a numeric string is read here.
            days_on: float | None = raw.days_on_production  # type: ignore[assignment]
            if days_on.__class__ is str:  # type: ignore[comparison-overlap]
                days_on = _number(days_on, _INFINITY)
            if days_on is not None and days_on > span:
                return None
            oil: float | None = raw.oil_production_kbd  # type: ignore[assignment]
            if oil.__class__ is str:  # type: ignore[comparison-overlap]
                oil = _number(oil, self.ceilings[0])
            gas: float | None = raw.gas_production_mmcfd  # type: ignore[assignment]
            if gas.__class__ is str:  # type: ignore[comparison-overlap]
                gas = _number(gas, self.ceilings[1])
            water: float | None = raw.water_production_kbd  # type: ignore[assignment]
            if water.__class__ is str:  # type: ignore[comparison-overlap]
                water = _number(water, self.ceilings[2])
            liquids: float | None = raw.liquids_production_kbd  # type: ignore[assignment]
            if liquids.__class__ is str:  # type: ignore[comparison-overlap]
                liquids = _number(liquids, self.ceilings[3])
            # The arithmetic of canonical._streams, in the same order: both paths agree
            # bit for bit (``rate and``: None, 0.0 and -0.0 stay as they are; ``span`` is
            # ``days`` as a float, which Python would convert it to, only sooner).
            oil_bbl = oil and oil * span * RATE_TO_TOTAL
            gas_mcf = gas and gas * span * RATE_TO_TOTAL
            water_bbl = water and water * span * RATE_TO_TOTAL
            liquids_bbl = liquids and liquids * span * RATE_TO_TOTAL
            if raw.volumes is None:
                original = {}
            else:
                rates = [oil, gas, water, liquids]
                totals = [oil_bbl, gas_mcf, water_bbl, liquids_bbl]
                original = _volumes(raw.volumes, span, self.ceilings, rates, totals)
                oil, gas, water, liquids = rates
                oil_bbl, gas_mcf, water_bbl, liquids_bbl = totals
            # normalize.derived, for volumes known not to be negative, in its order of
            # operations (boe is the hydrocarbon volume plus gas as its oil equivalent)
            hydrocarbon = (oil_bbl or 0.0) + (liquids_bbl or 0.0)
            if oil_bbl is None and gas_mcf is None and liquids_bbl is None:
                if water_bbl is None:
                    return None  # nothing measured: flagged
                boe = None
            else:
                boe = hydrocarbon + (gas_mcf or 0.0) / MCF_PER_BOE
            if days_on == 0.0 and (oil_bbl or gas_mcf or water_bbl or liquids_bbl):
                return None  # volumes without producing time: flagged
            water_cut = gor = None
            if (
                water_bbl is not None
                and (oil_bbl is not None or liquids_bbl is not None)
                and hydrocarbon + water_bbl > 0.0
            ):
                water_cut = water_bbl / (hydrocarbon + water_bbl)
            if oil_bbl and gas_mcf is not None:
                gor = gas_mcf * SCF_PER_MCF / oil_bbl
            revision = raw.revision
            if revision is None:
                revision = 0
            elif revision.__class__ is str:
                if revision:
                    return None
                revision = 0
            _, topic, partition, offset, accepted, _, _ = message
            ingested = self._ingested.get(accepted)
            if ingested is None:
                ingested = self._ingested[accepted] = datetime.fromtimestamp(accepted / 1000, UTC)
            digest = id_prefix.copy()  # normalize.record_id, from the hash of "well␟field␟"
            digest.update(id_period)
            digest.update(id_source)
            return Canonical(
                digest.hexdigest(),
                (revision << VERSION_SHIFT) | accepted,  # type: ignore[operator]  # normalize.version
                well,
                well_raw,
                field,
                field_name,
                well_reference,
                well_name,
                text,
                start,
                kind,
                days,
                days_on,
                oil_bbl,
                gas_mcf,
                water_bbl,
                liquids_bbl,
                oil,
                gas,
                water,
                liquids,
                boe,
                water_cut,
                gor,
                original,
                flags,  # type: ignore[arg-type]  # a tuple: shared, so immutable
                operator,
                basin,
                country,
                status,
                source,
                revision,  # type: ignore[arg-type]
                extra,
                topic,
                partition,
                offset,
                ingested,
                self.now,
                SCHEMA_VERSION,
            )
        except NotClean:
            return None
        except msgspec.ValidationError:
            return self._with_unknown_fields(message) if extra is None else None
        except (msgspec.DecodeError, UnicodeDecodeError):
            return None

    def _with_unknown_fields(self, message: RawMessage) -> Canonical | None:
        try:
            obj = orjson.loads(message.value)
        except orjson.JSONDecodeError:
            return None
        if type(obj) is not dict:
            return None
        extra = {key: obj.pop(key) for key in list(obj) if key not in KNOWN}
        try:
            raw = msgspec.convert(obj, self._raw_type)
        except msgspec.ValidationError:
            return None
        return self.record(message, raw, extra)

    def _period(self, text: str) -> _Period:
        period = parse_period(text)
        if period is None or period.start > self.latest_start:
            raise NotClean
        id_period = f"{period.period}\x1f{period.kind}\x1f".encode()
        entry = self._periods[text] = (*period, float(period.days), id_period)
        return entry


def _audit_fields(raw: Raw) -> dict[str, Any]:
    """The seed API's own audit fields, kept in ``extra`` as the full path keeps them."""
    extra = {}
    if raw.source_data is not UNSET:
        extra["source_data"] = raw.source_data
    if raw.partition_0 is not UNSET:
        extra["partition_0"] = raw.partition_0
    return extra


def _number(text: str, ceiling: float) -> float | None:
    """A float within [0, ``ceiling``] from a numeric string; None when blank."""
    try:
        number = float(text)
    except ValueError:
        if text.strip():
            raise NotClean from None
        return None
    # float() also reads "1_0", "inf" and non-ASCII digits; leave those to pydantic.
    if 0.0 <= number <= ceiling and number < _INFINITY and text.isascii() and "_" not in text:
        return number
    raise NotClean


def _volumes(
    volumes: Volumes,
    days: float,
    ceilings: tuple[float, float, float, float],
    rates: list[float | None],
    totals: list[float | None],
) -> dict[str, Original]:
    """Rates and totals from the volumes measured in known units, within the ceilings;
    the values as sent, in the order of the streams (as ``canonical._streams`` has them).
    A volume sent as a JSON number is its own ``Original`` (``structs.Volume``)."""
    original: dict[str, Any] = {}
    for i, entry in enumerate((volumes.oil, volumes.gas, volumes.water, volumes.liquids)):
        if entry is None:
            continue
        unit = entry.unit
        factor = _FACTORS[i].get(unit) or _factor(i, unit)
        value = entry.value
        kept: Volume | Original = entry
        if value.__class__ is str:
            value = _number(value, _INFINITY)
            kept = Original(value, unit)
        if value is not None:
            total = value * factor  # type: ignore[operator]
            rate = total / days / RATE_TO_TOTAL
            if rate > ceilings[i]:
                raise NotClean
            rates[i] = rate
            totals[i] = total
            original[_STREAMS[i]] = kept
    return original


def factor_of(i: int, unit: str) -> float | None:
    """The factor of ``unit`` to the canonical unit of stream ``i`` (positive); None when
    the unit is unknown or does not fit the stream."""
    known = unit_of(unit)
    return None if known is None else factor_to_canonical(_QUANTITIES[i], known)


def _factor(i: int, unit: str) -> float:
    """``factor_of``, kept for next time; ``NotClean`` when there is none."""
    factor = factor_of(i, unit)
    if factor is None:
        raise NotClean
    if len(_FACTORS[i]) < 256:  # spellings of a handful of units; never unbounded
        _FACTORS[i][unit] = factor
    return factor
