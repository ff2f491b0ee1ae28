import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gateway import admin, cache, export, jwtauth


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        pytest.param("read admin", {"read", "admin"}, id="space-separated"),
        pytest.param(["read", "bogus"], {"read"}, id="list-unknown-dropped"),
        pytest.param(None, set(), id="absent"),
        pytest.param({"read": True}, set(), id="odd-shape"),
    ],
)
def test_scopes_of(claim: Any, expected: set[str]) -> None:
    assert jwtauth.scopes_of(claim) == expected


@pytest.mark.parametrize(
    ("header", "hit"),
    [
        pytest.param('"abc"', True, id="exact"),
        pytest.param('W/"abc"', True, id="weak"),
        pytest.param('"x", "abc"', True, id="list"),
        pytest.param("*", True, id="star"),
        pytest.param('"abd"', False, id="other"),
        pytest.param(None, False, id="absent"),
    ],
)
def test_if_none_match(header: str | None, hit: bool) -> None:
    assert cache.matches(header, '"abc"') is hit


def test_etag_follows_the_body() -> None:
    assert cache.etag_of(b"a") == cache.etag_of(b"a") != cache.etag_of(b"b")


@pytest.mark.parametrize(
    ("stored", "generation", "expected"),
    [
        pytest.param(
            cache.pack("3.1", '"e"', b'{"a":\n1}'), "3.1", ('"e"', b'{"a":\n1}'), id="current"
        ),
        pytest.param(cache.pack("3.1", '"e"', b""), "3.1", ('"e"', b""), id="empty-body"),
        pytest.param(cache.pack("2.1", '"e"', b"{}"), "3.1", None, id="older-generation"),
        pytest.param(cache.pack("3.0", '"e"', b"{}"), "3.1", None, id="older-shares"),
        pytest.param(cache.pack("13.1", '"e"', b"{}"), "3.1", None, id="not-a-prefix-match"),
        pytest.param(b"{}", "0.0", None, id="foreign-value"),
        pytest.param(None, "0.0", None, id="absent"),
    ],
)
def test_cache_entries_are_served_only_at_their_generation(
    stored: bytes | None, generation: str, expected: tuple[str, bytes] | None
) -> None:
    assert cache.unpack(stored, generation) == expected


@pytest.mark.parametrize(
    ("body", "key"),
    [
        pytest.param(b'{"well_code": 12}', b"12", id="numeric"),
        pytest.param(b'{"well_code": "7-MRL"}', b"7-MRL", id="text"),
        pytest.param(b'{"other": 1}', None, id="absent"),
        pytest.param(b"[1]", None, id="not-object"),
        pytest.param(b"\xff{", None, id="not-json"),
    ],
)
def test_replay_key_is_the_well(body: bytes, key: bytes | None) -> None:
    assert admin.message_key(body) == key


def test_encode_streams_one_chunk_per_block() -> None:
    batch = pa.record_batch({"a": [1, None], "s": ["x", "y,z"]})
    chunks = list(export.encode(iter([batch, batch, batch]), "parquet"))
    assert len(chunks) >= 3
    assert pq.read_table(io.BytesIO(b"".join(chunks))).num_rows == 6
    text = b"".join(export.encode(iter([batch, batch]), "csv")).decode()
    assert text.splitlines() == ['"a","s"', '1,"x"', ',"y,z"', '1,"x"', ',"y,z"']


def test_export_sql_filters_by_bound_parameters() -> None:
    text = export.export_sql(well=True, field=True)
    assert "well_code = {well:String}" in text
    assert "field_code = {field:String}" in text
    assert "FINAL" not in text
