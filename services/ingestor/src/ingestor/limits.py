"""What one record may be: its size, its fields' count and size, its nesting. Every
parser (HTTP bodies, files, imports) checks each record here, so a record over a limit
is a rejected line with its reason, whichever way it came in."""

from dataclasses import dataclass
from typing import Any

from contracts import ErrorCode, ErrorDetail

#: A constant in a record is refused alike by every path, with this reason.
NOT_A_NUMBER = "NaN and Infinity are not JSON numbers; send null or a finite number"
OUT_OF_RANGE = "a number beyond the range of a double"


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps on one record. ``record_bytes`` bounds a record's published bytes (and so an
    NDJSON line, a JSON element, a CSV row); ``field_bytes`` any one string in it, key
    or value; ``fields`` its keys, counted at every level; ``depth`` its nesting."""

    record_bytes: int = 256 * 1024
    field_bytes: int = 64 * 1024
    fields: int = 1000
    depth: int = 32


def too_large(limits: Limits) -> ErrorDetail:
    return ErrorDetail(
        code=ErrorCode.RECORD_TOO_LARGE,
        message=f"record longer than {limits.record_bytes} bytes (dead letter truncated)",
    )


def exceeded(message: str) -> ErrorDetail:
    return ErrorDetail(code=ErrorCode.LIMIT_EXCEEDED, message=message)


def violation(raw: bytes, value: Any, limits: Limits) -> ErrorDetail | None:
    """The first limit a record (its JSON ``raw`` bytes and decoded ``value``) breaks."""
    if len(raw) > limits.record_bytes:
        return too_large(limits)
    # Counted in C over the bytes, these bound what a walk would find: no string is
    # longer than the record, no record has more keys than colons or more levels than
    # brackets. Most records stop here.
    if (
        len(raw) <= limits.field_bytes
        and raw.count(b":") <= limits.fields
        and raw.count(b"{") + raw.count(b"[") <= limits.depth
    ):
        return None
    return _walk(value, limits)


def _walk(value: Any, limits: Limits) -> ErrorDetail | None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    fields = 0
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if _longer(node, limits.field_bytes):
                return exceeded(f"a field is longer than {limits.field_bytes} bytes")
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > limits.depth:
            return exceeded(f"nested deeper than {limits.depth} levels")
        if isinstance(node, dict):
            fields += len(node)
            if fields > limits.fields:
                return exceeded(f"more than {limits.fields} fields")
            stack.extend((key, depth) for key in node)
            stack.extend((item, depth + 1) for item in node.values())
        else:
            stack.extend((item, depth + 1) for item in node)
    return None


def _longer(text: str, limit: int) -> bool:
    return len(text) > limit or (len(text) * 4 > limit and len(text.encode("utf-8")) > limit)
