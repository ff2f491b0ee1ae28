"""Files: encodings, CSV quirks, format detection, wrapped JSON, gzip."""

import gzip
from pathlib import Path

import orjson
import pytest

from ingestor.csvrows import csv_items
from ingestor.files import (
    FallbackDecoder,
    Format,
    detect_format,
    file_batches,
    text_chunks,
)
from ingestor.limits import Limits
from ingestor.parsing import Item

CSV = (
    "well_code;production_period;oil_production_kbd;well_name\r\n"
    '7;2024-01;1,5;"São\r\nMiguel; ""A"""\r\n'
)


def decode_in_chunks(data: bytes, size: int) -> tuple[str, str]:
    decoder = FallbackDecoder()
    chunks = (data[i : i + size] for i in range(0, len(data), size))
    return "".join(text_chunks(chunks, decoder)), decoder.encoding


@pytest.mark.parametrize("size", [1, 2, 5, 1000])
@pytest.mark.parametrize(
    ("data", "text", "encoding"),
    [
        pytest.param("Ærø ção".encode(), "Ærø ção", "utf-8", id="utf8"),
        pytest.param(b"\xef\xbb\xbfwell\xc3\xa9", "wellé", "utf-8-sig", id="utf8-bom"),
        pytest.param("Ærø ção".encode("latin-1"), "Ærø ção", "latin-1", id="latin1"),
        pytest.param(b"ok \xc3\xa9 then \xe9", "ok é then é", "latin-1", id="switch-midway"),
        pytest.param(b"\xef\xbb", "ï»", "latin-1", id="half-a-bom"),
    ],
)
def test_fallback_decoder(data: bytes, text: str, encoding: str, size: int) -> None:
    assert decode_in_chunks(data, size) == (text, encoding)


def test_declared_encoding_wins() -> None:
    decoder = FallbackDecoder("cp1252")
    assert decoder.decode(b"\x80 \xe9", final=True) == "€ é"
    assert decoder.encoding == "cp1252"


def items_of(csv_text: str) -> list[Item]:
    return list(csv_items([csv_text], Limits(10_000)))


def test_csv_semicolons_crlf_and_quoted_newlines() -> None:
    [item] = items_of(CSV)
    assert item.key == "7"
    assert orjson.loads(item.raw) == {
        "well_code": "7",
        "production_period": "2024-01",
        "oil_production_kbd": "1,5",
        "well_name": 'São\r\nMiguel; "A"',
    }
    assert item.line == 3  # the row ends on the file's third line


def test_csv_empty_cells_are_absent_and_dotted_headers_nest() -> None:
    text = "well_code,oil_production_kbd,volumes.oil.value,volumes.oil.unit\n8,,812.5,Sm3\n\n"
    [item] = items_of(text)
    assert orjson.loads(item.raw) == {
        "well_code": "8",
        "volumes": {"oil": {"value": "812.5", "unit": "Sm3"}},
    }


def test_csv_bad_rows_are_rejected_with_their_line() -> None:
    text = "well_code,production_period\n1,2024-01\n2,2024-02,extra\n,2024-03\n4,2024-04\n"
    items = items_of(text)
    assert [(i.line, i.key, [e.code for e in i.errors]) for i in items] == [
        (2, "1", []),
        (3, None, ["unparseable_json"]),
        (4, None, ["missing_field"]),
        (5, "4", []),
    ]


@pytest.mark.parametrize(
    ("name", "content_type", "head", "expected"),
    [
        pytest.param("x.CSV.gz", "", b"[", "csv", id="csv-name"),
        pytest.param("x.jsonl", "", b"", "ndjson", id="jsonl-name"),
        pytest.param("upload", "application/x-ndjson", b"", "ndjson", id="ndjson-type"),
        pytest.param("upload", "application/json", b"", "json", id="json-type"),
        pytest.param("upload", "", b'  [{"a": 1}]', "json", id="array-head"),
        pytest.param("upload", "", b'{"a": 1}\n{"a": 2}\n', "ndjson", id="ndjson-head"),
        pytest.param("upload", "", b'{\n  "data": [\n', "json", id="wrapped-head"),
        pytest.param("upload", "", b"\xef\xbb\xbfwell_code,x\n", "csv", id="csv-head"),
    ],
)
def test_detect_format(name: str, content_type: str, head: bytes, expected: Format) -> None:
    assert detect_format(name, content_type, head) == expected


@pytest.mark.parametrize("gzipped", [pytest.param(False, id="plain"), pytest.param(True, id="gz")])
@pytest.mark.parametrize(
    ("fmt", "content"),
    [
        pytest.param(
            "json",
            '{"meta": {"source": "ANP", "note": "[x]"}, "data": [{"well_code": "Ærø"}, '
            '{"well_code": 2}], "total": 2}'.encode("latin-1"),
            id="wrapped-json-latin1",
        ),
        pytest.param("json", b'[{"well_code": "\xc3\x86r\xc3\xb8"}, {"well_code": 2}]', id="array"),
        pytest.param(
            "ndjson", b'{"well_code": "\xc3\x86r\xc3\xb8"}\r\n{"well_code": 2}\r\n', id="ndjson"
        ),
        pytest.param("csv", "well_code\r\nÆrø\r\n2\r\n".encode("latin-1"), id="csv-latin1"),
    ],
)
def test_file_batches(tmp_path: Path, fmt: Format, content: bytes, gzipped: bool) -> None:
    path = tmp_path / "records"
    path.write_bytes(gzip.compress(content) if gzipped else content)
    items = [i for batch in file_batches(path, fmt, limits=Limits(1000)) for i in batch]
    assert [i.key for i in items] == ["Ærø", "2"]
