from collections.abc import Callable, Iterable, Mapping

from validator.structs import Normalized, RawMessage
from validator.wells import SentKey

class NativePath:
    def __init__(
        self,
        sent_of: Callable[[SentKey], object],
        period_of: Callable[[str], tuple[str, str, str, int, int] | None],
        factor_of: Callable[[int, str], float | None],
        normalized_type: type[Normalized],
        off: object,
        unknown: object,
        constants: tuple[float, float, float, int, int, int],
    ) -> None: ...
    def run(
        self,
        messages: Iterable[RawMessage],
        reference: Mapping[str, object] | None,
        unknown_well_flag: bool,
        ceilings: tuple[float, float, float, float],
        latest_start: int,
        normalized_at: bytes,
        normalized: list[Normalized],
        keys: list[tuple[str, str, str]],
        slow: list[RawMessage],
        flags: dict[str, int],
    ) -> None: ...
