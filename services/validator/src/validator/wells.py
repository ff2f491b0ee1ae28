"""What records say of their well besides their period and numbers (well code, field
code, names, data source), resolved once per combination against each reference object
and kept across batches, where they repeat (a batch holds each well about once).

Both fast paths use it: the Python one (``fastpath``) reads ``Sent.resolved`` as it is;
the native one (``native``) asks ``sent_of`` and ``Sent.resolve`` once per combination
and reference object and keeps JSON made from the answer.
"""

from hashlib import blake2b
from typing import Final

from validator.enrich import WellRef, filled
from validator.normalize import canonical_code, new_id_hash
from validator.rules import Flag

#: (well code, field code, field name, well name, well reference, data source), as sent
SentKey = tuple[int | str, int | str | None, str | None, str | None, str | None, str | None]
#: (the reference it was resolved with, well, well_raw, field, field_name, well_reference,
#: well_name, operator, basin, country, status, data_source, flags, the record id's hash
#: of "well␟field␟" so far, the data source as the hash's last bytes); one object, so a
#: reader never pairs one reference with another's resolution
Resolved = tuple[
    object,
    str,
    str,
    str,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str,
    tuple[str, ...],
    blake2b,
    bytes,
]
#: About 1 KB an entry, so at most about 65 MB; cleared when full.
_SENT_LIMIT: Final = 65_536
#: Every combination of codes, names and data source seen lately; kept across batches,
#: which is where they repeat (a batch holds each well about once).
_SENT: Final[dict[SentKey, "Sent"]] = {}
OFF: Final = object()
"""Enrichment is off."""
UNKNOWN: Final = object()
"""Enrichment is on and the well is not in the reference data."""
_NOBODY: Final = object()
"""Not resolved yet."""


_NORMALIZED_FLAGS: Final = (Flag.IDENTIFIER_NORMALIZED.value,)
_UNKNOWN_WELL: Final = Flag.UNKNOWN_WELL.value
_new_id_hash: Final = new_id_hash


class Sent:
    """What records say of themselves besides their period and numbers, for one
    combination of well code, field code, names and data source (``_SENT`` keys), resolved
    against the reference data of its well, and kept resolved for the next record that
    meets the same reference data."""

    __slots__ = (
        "field",
        "field_name",
        "flags",
        "resolved",
        "source",
        "well",
        "well_name",
        "well_raw",
        "well_reference",
    )

    def __init__(self, key: SentKey, identity: tuple[str, str, str, tuple[str, ...]]) -> None:
        _, _, self.field_name, self.well_name, self.well_reference, source = key
        self.well_raw, self.well, self.field, self.flags = identity
        self.source = source or "unknown"
        # Resolved with nothing yet: the first record resolves it.
        self.resolved: Resolved = (_NOBODY,)  # type: ignore[assignment]

    def resolve(self, ref: object) -> "Resolved":
        """The record's identity and enrichment with ``ref``: a ``WellRef``, ``UNKNOWN``
        (enrichment on, the well unknown: flagged) or ``OFF`` (enrichment off), as
        ``enrich.apply`` fills them."""
        field, field_name, well_name = self.field, self.field_name, self.well_name
        well_reference, flags = self.well_reference, self.flags
        operator = basin = country = status = None
        if isinstance(ref, WellRef):
            enrichment = ref.enrichment
            field, field_name, well_name, well_reference = filled(
                field, field_name, well_name, well_reference, enrichment
            )
            operator, basin, country = enrichment.operator, enrichment.basin, enrichment.country
            status = enrichment.status
        elif ref is UNKNOWN:
            flags = (*flags, _UNKNOWN_WELL)
        id_prefix = _new_id_hash()
        id_prefix.update(f"{self.well}\x1f{field}\x1f".encode())
        self.resolved = (
            ref,
            self.well,
            self.well_raw,
            field,
            field_name,
            well_reference,
            well_name,
            operator,
            basin,
            country,
            status,
            self.source,
            flags,
            id_prefix,
            self.source.encode(),
        )
        return self.resolved


def sent_of(key: SentKey) -> "Sent | None":
    """``_SENT[key]``, made on first sight; None when the codes need the full path."""
    sent = _SENT.get(key)
    if sent is not None:
        return sent
    identity = _identity(key[0], key[1])
    if identity is None:
        return None
    if len(_SENT) >= _SENT_LIMIT:
        _SENT.clear()  # bounded: the wells of a few batches are enough to stay warm
    sent = _SENT[key] = Sent(key, identity)
    return sent


def _identity(
    well: int | str, field: int | str | None
) -> tuple[str, str, str, tuple[str, ...]] | None:
    """(well code as text, canonical well code, canonical field code, flags), or None
    when the codes need the full path."""
    well_raw = _text(well)
    field_raw = "" if field is None else _text(field)
    if well_raw is None or field_raw is None:
        return None
    well_code, field_code = canonical_code(well_raw), canonical_code(field_raw)
    if not well_code:
        return None
    # The one flag taken here: codes are often padded, and that is no reason to slow down.
    changed = well_code != well_raw or field_code != field_raw
    return well_raw, well_code, field_code, _NORMALIZED_FLAGS if changed else ()


def _text(value: int | str) -> str | None:
    if type(value) is int:
        # pydantic writes integers beyond 64 bits in float notation
        return str(value) if -(2**63) <= value < 2**63 else None
    return value  # type: ignore[return-value]
