import base64

import pytest

from gateway import cursor


def test_round_trip_is_opaque_text() -> None:
    token = cursor.encode(["2024-03-01", "month"])
    assert "2024" not in token
    assert cursor.decode(token, arity=2) == ["2024-03-01", "month"]


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("not base64 !!", id="garbage"),
        pytest.param(base64.urlsafe_b64encode(b"{}").decode(), id="not-a-list"),
        pytest.param(cursor.encode(["a"]), id="wrong-arity"),
        pytest.param(base64.urlsafe_b64encode(b'[["x"], 1]').decode(), id="nested"),
        pytest.param("", id="empty"),
    ],
)
def test_rejects_foreign_tokens(token: str) -> None:
    with pytest.raises(cursor.CursorError):
        cursor.decode(token, arity=2)
