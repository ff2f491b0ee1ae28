"""Opaque pagination cursors: the sort key of the last item returned, base64url JSON.

A keyset cursor (rather than an offset) keeps pages stable while rows are inserted:
the next page starts strictly after the last key seen, wherever new rows land.
"""

import base64
import binascii

import orjson

Key = list[str | int | float]


class CursorError(ValueError):
    pass


def encode(key: Key) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).rstrip(b"=").decode("ascii")


def decode(token: str, *, arity: int) -> Key:
    """The key inside ``token``; raises CursorError when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        key = orjson.loads(raw)
    except (binascii.Error, orjson.JSONDecodeError, ValueError) as exc:
        raise CursorError("cursor is not valid") from exc
    if (
        not isinstance(key, list)
        or len(key) != arity
        or not all(isinstance(v, str | int | float) for v in key)
    ):
        raise CursorError("cursor is not valid")
    return key
