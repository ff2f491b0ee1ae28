"""msgspec shapes of the raw and canonical records, for the hot path only.

``contracts`` stays the definition (pydantic); these mirror it so a clean record is
decoded and encoded in C. Tests pin the mirror: ``Canonical`` has exactly the fields of
``contracts.CanonicalRecord``, in order, and its JSON validates as one.
"""

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Annotated, Any, Final, NamedTuple

import msgspec

from contracts import SCHEMA_VERSION
from validator.normalize import MAX_REVISION

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
#: A measured quantity: a JSON number is checked here, in C (a negative one is an
#: allocation correction, flagged by the full path); a string is left to the fast path.
Number = Annotated[float, msgspec.Meta(ge=0)] | str | None
Revision = Annotated[int, msgspec.Meta(ge=0, le=MAX_REVISION)] | str | None


class RawMessage(NamedTuple):
    """One raw Kafka message and where it came from."""

    value: bytes
    topic: str = ""
    partition: int = -1
    offset: int = -1
    accepted_ms: int = 0
    key: bytes | None = None
    correlation_id: str | None = None


class Normalized(msgspec.Struct, frozen=True, gc=False):
    """A canonical record ready to publish: its key (the canonical well code) and body."""

    key: str
    body: bytes
    correlation_id: str | None


class Volume(msgspec.Struct, kw_only=True, gc=False):
    """A volume as sent. Its fields are ``Original``'s, in the same order, so one sent
    with a JSON number encodes as its ``Original`` would and is kept as it came."""

    value: Number = None
    unit: str


class Volumes(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """``volumes`` by stream; another stream is refused here (the full path flags it)."""

    oil: Volume | None = None
    gas: Volume | None = None
    water: Volume | None = None
    liquids: Volume | None = None


class Raw(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A raw record in the shapes upstream systems send. Unknown fields are refused
    here (the full path keeps them), except the seed API's own audit fields."""

    well_code: int | str
    production_period: str
    field_code: int | str | None = None
    field_name: str | None = None
    well_reference: str | None = None
    well_name: str | None = None
    days_on_production: Number = None
    oil_production_kbd: Number = None
    gas_production_mmcfd: Number = None
    water_production_kbd: Number = None
    liquids_production_kbd: Number = None
    volumes: Volumes | None = None
    data_source: str | None = None
    revision: Revision = None
    source_data: Any = msgspec.UNSET
    partition_0: Any = msgspec.UNSET


class Original(msgspec.Struct, gc=False):
    """``contracts.OriginalValue``: a quantity as it was sent."""

    value: float | None
    unit: str


class Canonical(msgspec.Struct, gc=False):
    """``contracts.CanonicalRecord``, field for field."""

    record_id: str
    version: int
    well_code: str
    well_code_raw: str
    field_code: str
    field_name: str | None
    well_reference: str | None
    well_name: str | None
    period: str
    period_start: date
    period_type: str
    days_in_period: int
    days_on_production: float | None
    oil_bbl: float | None
    gas_mcf: float | None
    water_bbl: float | None
    liquids_bbl: float | None
    oil_production_kbd: float | None
    gas_production_mmcfd: float | None
    water_production_kbd: float | None
    liquids_production_kbd: float | None
    boe: float | None
    water_cut: float | None
    gor: float | None
    original_values: dict[str, Original]
    #: The fast path's records share an immutable tuple here (its one flag, or none).
    flags: list[str]
    operator: str | None
    basin: str | None
    country: str | None
    well_status: str | None
    data_source: str
    revision: int
    extra: dict[str, Any]
    source_topic: str = ""
    source_partition: int = -1
    source_offset: int = -1
    ingested_at: datetime = EPOCH
    normalized_at: datetime = EPOCH
    schema_version: int = SCHEMA_VERSION


@lru_cache(maxsize=8)
def raw_decoder(ceilings: tuple[float, float, float, float]) -> msgspec.json.Decoder[Raw]:
    """A decoder of ``Raw`` that also holds JSON-number rates (oil, gas, water, liquids)
    to their ceilings, so the fast path need not."""
    oil, gas, water, liquids = (
        Annotated[float, msgspec.Meta(ge=0, le=ceiling)] | str | None for ceiling in ceilings
    )
    rates = [
        ("oil_production_kbd", oil, None),
        ("gas_production_mmcfd", gas, None),
        ("water_production_kbd", water, None),
        ("liquids_production_kbd", liquids, None),
    ]
    kind = msgspec.defstruct("Raw", rates, bases=(Raw,), forbid_unknown_fields=True, gc=False)
    return msgspec.json.Decoder(kind)


ENCODER: Final = msgspec.json.Encoder()
CANONICAL_DECODER: Final = msgspec.json.Decoder(Canonical)
