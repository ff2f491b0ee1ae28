"""The native fast path (``validator._native``, in Rust): the first to see each message.

It reads a clean record's JSON, checks and converts it, and writes its canonical record's
JSON without building a Python object per field: the records it answers for cost a small
part of what the Python fast path costs. It answers only where it is sure, and gives every
other message back, untouched, for the Python fast path and then the full path to decide.

The rules stay defined once, in Python: the native path asks the functions below (and
``wells.sent_of``) the first time it meets a well, a period or a unit, and keeps the
answer. Its arithmetic is the Python fast path's, operation for operation; its JSON is
msgspec's, byte for byte. Property and random tests hold it to both other paths
(``tests/unit/validator/test_native.py``).
"""

import threading
from collections.abc import Iterable, Mapping

from contracts import SCHEMA_VERSION
from contracts.units import MCF_PER_BOE, SCF_PER_MCF
from validator import fastpath, wells
from validator._native import NativePath
from validator.enrich import WellRef
from validator.normalize import MAX_REVISION, RATE_TO_TOTAL, VERSION_SHIFT, parse_period
from validator.structs import ENCODER, Normalized, RawMessage


def run(
    path: fastpath.FastPath,
    messages: Iterable[RawMessage],
    reference: Mapping[str, WellRef | None] | None,
    normalized: list[Normalized],
    keys: list[tuple[str, str, str]],
    flags: dict[str, int],
) -> list[RawMessage]:
    """Answer for what it can of ``messages`` with ``path``'s limits and clock, adding to
    ``normalized``, ``keys`` and ``flags`` as ``pipeline._Output`` does; the messages left,
    in order."""
    left: list[RawMessage] = []
    _native().run(
        messages,
        reference,
        path.unknown_well_flag,
        path.ceilings,
        path.latest_start.toordinal(),
        ENCODER.encode(path.now),
        normalized,
        keys,
        left,
        flags,
    )
    return left


def _period_of(text: str) -> tuple[str, str, str, int, int] | None:
    """(period, start as ISO text, kind, days, start as an ordinal), or None."""
    period = parse_period(text)
    if period is None:
        return None
    start = period.start
    return period.period, start.isoformat(), period.kind, period.days, start.toordinal()


_LOCAL = threading.local()


def _native() -> NativePath:
    """This thread's native path: its caches are its own, so no lock is needed."""
    native: NativePath | None = getattr(_LOCAL, "native", None)
    if native is None:
        native = _LOCAL.native = NativePath(
            wells.sent_of,
            _period_of,
            fastpath.factor_of,
            Normalized,
            wells.OFF,
            wells.UNKNOWN,
            (MCF_PER_BOE, SCF_PER_MCF, RATE_TO_TOTAL, VERSION_SHIFT, MAX_REVISION, SCHEMA_VERSION),
        )
    return native
