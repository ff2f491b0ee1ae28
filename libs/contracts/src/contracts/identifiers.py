"""A record's identity: the canonical form of well and field identifiers, shared by every
stage that looks a well or field up (the validator when it stores a record, the gateway
when it reads one), and the ``record_id`` and ``version`` of a record.

Rule, applied to well and field codes (the original is kept beside it):

1. Unicode NFKC, so full-width digits and odd spaces read as their plain forms;
2. upper case;
3. every whitespace character removed (``"15/9 F-12"`` and ``"15/9-F-12"`` stay apart, but
   ``"7-MRL- 123D"`` and ``"7-MRL-123D"`` meet);
4. leading zeros dropped from every run of digits (``"00123"`` -> ``"123"``,
   ``"7-MRL-0123D"`` -> ``"7-MRL-123D"``, ``"000"`` -> ``"0"``).

So codes that differ only in case, spacing or zero padding share one canonical key.

A code is refused before any of that (``code_problem``) when it is longer than
``MAX_CODE_LENGTH`` characters, or holds a control character, an invisible format
character (Unicode categories Cc, Cf) or a line or paragraph separator (Zl, Zp), read
after NFKC: such a code names no well, and would be kept and cached at any size.
"""

import hashlib
import re
import unicodedata
from functools import lru_cache
from typing import Final

#: The longest well or field code (and data source) in characters, as sent and after NFKC.
MAX_CODE_LENGTH: Final = 128
_INVISIBLE: Final = frozenset({"Cc", "Cf", "Zl", "Zp"})

_SPACE = re.compile(r"\s+")
_LEADING_ZEROS = re.compile(r"(?<!\d)0+(?=\d)")


def code_problem(code: str, limit: int = MAX_CODE_LENGTH) -> str | None:
    """Why ``code`` cannot be a code (too long, or with a character no code holds), or
    None when it can. Spaces are fine (``canonical_code`` removes them); tabs and line
    breaks are control characters."""
    if len(code) > limit:
        return f"longer than {limit} characters"
    if code.isascii():
        if code.isprintable():
            return None
        text = code
    else:
        text = unicodedata.normalize("NFKC", code)
        if len(text) > limit:
            return f"longer than {limit} characters"
    for char in text:
        if unicodedata.category(char) in _INVISIBLE:
            return f"holds the character U+{ord(char):04X}"
    return None


@lru_cache(maxsize=65_536)
def canonical_code(code: str) -> str:
    """The canonical form of a well or field identifier."""
    text = _SPACE.sub("", unicodedata.normalize("NFKC", code).upper())
    return _LEADING_ZEROS.sub("", text)


VERSION_SHIFT: Final = 42
"""``version = revision << 42 | accepted_ms``: 42 bits of epoch milliseconds last until
2109, leaving 22 bits (up to 4,194,303) for the upstream revision in a UInt64."""
MAX_REVISION: Final = (1 << (64 - VERSION_SHIFT)) - 1
LAST_ACCEPTED_MS: Final = (1 << VERSION_SHIFT) - 1
"""The last millisecond ``version`` holds (the year 2109)."""
new_id_hash: Final = hashlib.blake2b(digest_size=16).copy
"""A fresh 128-bit BLAKE2b, the hash of ``record_id``. Copied from one made once: building
one parses a dozen keyword arguments and costs more than the hashing."""


DEFAULT_ORGANISATION: Final = "default"
"""The organisation records belonged to before records had owners (the migration gives it
to every existing row), and the default of ``WELLSTREAM_DEFAULT_ORGANISATION``."""


def record_id(
    well_code: str,
    field_code: str,
    period: str,
    kind: str,
    data_source: str,
    organisation: str,
) -> str:
    """Deterministic id of a natural key: the same key always yields the same id.

    The owner is part of the key, so two organisations reporting the same well never
    replace each other's records. ``DEFAULT_ORGANISATION``'s ids are those of the key
    without an owner, as they were before records had owners: its stored records keep
    being restated by the same ids. Every other owner is mixed in after a separator no
    code holds (``code_problem`` refuses control characters)."""
    key = f"{well_code}\x1f{field_code}\x1f{period}\x1f{kind}\x1f{data_source}"
    if organisation != DEFAULT_ORGANISATION:
        key = f"{key}\x1e{organisation}"
    digest = new_id_hash()
    digest.update(key.encode())
    return digest.hexdigest()


def version(revision: int, accepted_ms: int) -> int:
    """Ordered by (revision, time first accepted); a replay keeps both, so the same version."""
    return (revision << VERSION_SHIFT) | accepted_ms
