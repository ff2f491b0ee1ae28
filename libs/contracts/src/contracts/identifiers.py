"""The canonical form of well and field identifiers, shared by every stage that looks a
well or field up (the validator when it stores a record, the gateway when it reads one).

Rule, applied to well and field codes (the original is kept beside it):

1. Unicode NFKC, so full-width digits and odd spaces read as their plain forms;
2. upper case;
3. every whitespace character removed (``"15/9 F-12"`` and ``"15/9-F-12"`` stay apart, but
   ``"7-MRL- 123D"`` and ``"7-MRL-123D"`` meet);
4. leading zeros dropped from every run of digits (``"00123"`` -> ``"123"``,
   ``"7-MRL-0123D"`` -> ``"7-MRL-123D"``, ``"000"`` -> ``"0"``).

So codes that differ only in case, spacing or zero padding share one canonical key.
"""

import re
import unicodedata
from functools import lru_cache

_SPACE = re.compile(r"\s+")
_LEADING_ZEROS = re.compile(r"(?<!\d)0+(?=\d)")


@lru_cache(maxsize=65_536)
def canonical_code(code: str) -> str:
    """The canonical form of a well or field identifier."""
    text = _SPACE.sub("", unicodedata.normalize("NFKC", code).upper())
    return _LEADING_ZEROS.sub("", text)
