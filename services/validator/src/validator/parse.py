"""The full path's reading: raw bytes to the fields of a ``contracts.RawRecord``, or
every reason they cannot be.

Fields are a plain dict keyed like ``RawRecord`` (``volumes`` as ``{stream: VolumeIn |
None}``, unknown fields under ``"extra"``). The clean path (``clean.py``) reads clean
records without pydantic; whatever it cannot vouch for comes here.
"""

import json
import math
from typing import Any, Final

import orjson
from pydantic import ValidationError

from contracts import ErrorCode, ErrorDetail, RawRecord
from contracts.records import Number
from validator.normalize import parse_period, unit_of

Fields = dict[str, Any]

_BOM: Final = b"\xef\xbb\xbf"
NUMBER_FIELDS: Final = tuple(
    name for name, info in RawRecord.model_fields.items() if info.annotation == Number
)
KNOWN: Final = frozenset(RawRecord.model_fields)


class Rejected(Exception):
    """The message cannot be read as a raw record; carries every reason found."""

    def __init__(self, errors: list[ErrorDetail]) -> None:
        super().__init__(errors[0].message)
        self.errors = errors


def decode(value: bytes) -> tuple[dict[str, Any], bool]:
    """The JSON object in ``value`` and whether it had to be read as Latin-1.

    A UTF-8 byte-order mark is skipped; bytes that are not UTF-8 are read as Latin-1,
    the other encoding spreadsheets export, and the record is flagged for it."""
    latin1 = False
    if value.startswith(_BOM):
        value = value[3:]
    try:
        obj = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            return decode(value.decode("latin-1").encode("utf-8"))[0], True
        obj = _standard_json(text)  # orjson refuses integers beyond 64 bits; JSON does not
        if obj is _INVALID:
            message = f"not valid JSON: {exc}"
            raise Rejected([_error(None, ErrorCode.UNPARSEABLE_JSON, message)]) from None
    if not isinstance(obj, dict):
        kind = type(obj).__name__
        raise Rejected([_error(None, ErrorCode.NOT_AN_OBJECT, f"a JSON {kind}, not an object")])
    return obj, latin1


_INVALID: Final = object()


def _standard_json(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(name)  # NaN and Infinity are not JSON

    try:
        return json.loads(text, parse_constant=refuse)
    except ValueError:
        return _INVALID


def fields_of(obj: dict[str, Any]) -> Fields:
    """Let ``RawRecord`` validate; blank volume values read as null, like blank rates.
    Raises ``Rejected`` with every problem pydantic finds."""
    try:
        record = RawRecord.model_validate(_blank_volume_values(obj))
    except ValidationError as exc:
        errors = [_detail(err) for err in exc.errors(include_url=False)]
        raise Rejected(errors + _more_findings(obj, {e.field for e in errors})) from None
    out: Fields = {name: getattr(record, name) for name in KNOWN}
    for name in NUMBER_FIELDS:
        value = out[name]
        if value is not None and not math.isfinite(value):
            raise Rejected([_error(name, ErrorCode.INVALID_VALUE, f"{name} is not finite")])
    for stream, volume in (record.volumes or {}).items():
        if volume is not None and volume.value is not None and not math.isfinite(volume.value):
            field = f"volumes.{stream}.value"
            raise Rejected([_error(field, ErrorCode.INVALID_VALUE, f"{field} is not finite")])
    out["extra"] = dict(record.model_extra or {})
    return out


def _more_findings(obj: dict[str, Any], seen: set[str | None]) -> list[ErrorDetail]:
    """What the rules would also say about fields pydantic accepted, so a rejected record
    lists every reason at once."""
    found = []
    period = obj.get("production_period")
    if "production_period" not in seen and isinstance(period, str) and not parse_period(period):
        found.append(_error("production_period", ErrorCode.INVALID_PERIOD, f"{period!r}"))
    volumes = obj.get("volumes")
    for stream, volume in volumes.items() if isinstance(volumes, dict) else ():
        unit = volume.get("unit") if isinstance(volume, dict) else None
        field = f"volumes.{stream}.unit"
        if field not in seen and isinstance(unit, str) and unit_of(unit) is None:
            found.append(_error(field, ErrorCode.UNKNOWN_UNIT, f"unknown unit {unit!r}"))
    return found


def _blank_volume_values(obj: dict[str, Any]) -> dict[str, Any]:
    volumes = obj.get("volumes")
    if not isinstance(volumes, dict):
        return obj
    cleaned = {
        k: {**v, "value": None}
        if isinstance(v, dict) and isinstance(v.get("value"), str) and not v["value"].strip()
        else v
        for k, v in volumes.items()
    }
    return {**obj, "volumes": cleaned}


def _detail(err: Any) -> ErrorDetail:
    field = ".".join(str(part) for part in err["loc"]) or None
    if err["type"] == "missing":
        code = ErrorCode.MISSING_FIELD
    elif field == "production_period":
        code = ErrorCode.INVALID_PERIOD
    else:
        code = ErrorCode.INVALID_VALUE
    return _error(field, code, f"{field}: {err['msg']}" if field else err["msg"])


def _error(field: str | None, code: ErrorCode, message: str) -> ErrorDetail:
    return ErrorDetail(field=field, code=code.value, message=message)
