"""The push parsers: framing, chunk boundaries, bad lines and what is published."""

import json

import orjson
import pytest

from contracts import ErrorCode
from ingestor.jsonarray import JsonParser
from ingestor.limits import Limits
from ingestor.parsing import Item, NdjsonParser, Parser, well_key
from ingestor.streams import SniffingParser, parser_for

MAX = 4096


def run(parser: Parser, body: bytes, chunk: int) -> list[Item]:
    items: list[Item] = []
    for start in range(0, len(body), chunk):
        items += parser.feed(body[start : start + chunk])
    return items + parser.close()


def summary(items: list[Item]) -> list[tuple[int, str | None, str | None]]:
    return [(i.line, i.key, i.errors[0].code if i.errors else None) for i in items]


CHUNKS = [pytest.param(n, id=f"chunk{n}") for n in (1, 7, 64, 1 << 20)]


@pytest.mark.parametrize("chunk", CHUNKS)
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            b'{"well_code": 1, "x": "a"}\n{"well_code": "7-MRL-123D-RJS"}\n',
            [(1, "1", None), (2, "7-MRL-123D-RJS", None)],
            id="two-lines",
        ),
        pytest.param(
            b'\xef\xbb\xbf{"well_code": 5}\r\n\r\n{"well_code": " 6 "}\r\n',
            [(1, "5", None), (3, "6", None)],
            id="bom-crlf-blank-line",
        ),
        pytest.param(
            b'{"well_code": 1}\n{"well_code": 2,\n[1, 2]\n{"well_code": 3}',
            [
                (1, "1", None),
                (2, None, ErrorCode.UNPARSEABLE_JSON),
                (3, None, ErrorCode.NOT_AN_OBJECT),
                (4, "3", None),
            ],
            id="malformed-in-the-middle-no-final-newline",
        ),
        pytest.param(
            b'{"x": 1}\n{"well_code": null}\n{"well_code": true}\n{"well_code": 1.5}\n',
            [
                (1, None, ErrorCode.MISSING_FIELD),
                (2, None, ErrorCode.MISSING_FIELD),
                (3, None, ErrorCode.INVALID_VALUE),
                (4, None, ErrorCode.INVALID_VALUE),
            ],
            id="unusable-well-codes",
        ),
        pytest.param(b'{"well_code": "\xff"}\n', [(1, None, "unparseable_json")], id="not-utf8"),
    ],
)
def test_ndjson(chunk: int, body: bytes, expected: list[tuple[int, str | None, str]]) -> None:
    assert summary(run(NdjsonParser(Limits(MAX)), body, chunk)) == expected


@pytest.mark.parametrize("chunk", CHUNKS)
def test_ndjson_publishes_each_line_verbatim(chunk: int) -> None:
    lines = [b'{"well_code": 1, "oil_production_kbd": "1.25"}', b'{"well_code":2}']
    items = run(NdjsonParser(Limits(MAX)), b"\r\n".join(lines) + b"\r\n", chunk)
    assert [i.raw for i in items] == lines


@pytest.mark.parametrize("chunk", [pytest.param(n, id=f"chunk{n}") for n in (3, 50, 1000)])
def test_ndjson_over_long_line_is_rejected_and_the_rest_kept(chunk: int) -> None:
    long_line = b'{"well_code": 1, "pad": "' + b"x" * 300 + b'"}'
    body = b'{"well_code": 1}\n' + long_line + b'\n{"well_code": 3}\n'
    items = run(NdjsonParser(Limits(100)), body, chunk)
    assert summary(items) == [(1, "1", None), (2, None, "record_too_large"), (3, "3", None)]
    assert len(items[1].raw) == 100


@pytest.mark.parametrize("chunk", CHUNKS)
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            b' [ {"well_code": 1}, {"well_code": "A-2", "v": {"a": [1, "]"]}} ] ',
            [(1, "1", None), (2, "A-2", None)],
            id="array",
        ),
        pytest.param(b"[]", [], id="empty-array"),
        pytest.param(
            '\ufeff[{"well_code": "Ærø-1"}, 12345, "x"]'.encode(),
            [(1, "Ærø-1", None), (2, None, "not_an_object"), (3, None, "not_an_object")],
            id="bom-unicode-and-non-objects",
        ),
        pytest.param(
            b'{"well_code": 1,\n "a": 2}\n{"well_code": 2}',
            [(1, "1", None), (2, "2", None)],
            id="pretty-printed-values",
        ),
        pytest.param(
            b'[{"well_code": 1}, {"well_code": 2,, "a": 1}, {"well_code": 3}]',
            [(1, "1", None), (2, None, "unparseable_json")],
            id="syntax-error-ends-the-array",
        ),
        pytest.param(
            b'[{"well_code": 1}, {"well_code": 2}',
            [(1, "1", None), (2, "2", None), (3, None, "unparseable_json")],
            id="unclosed-array",
        ),
        pytest.param(
            b'[{"well_code": 1}, {"a": "\xff\xfe"}]',
            [(1, "1", None), (2, None, "unparseable_json")],
            id="not-utf8",
        ),
    ],
)
def test_json(chunk: int, body: bytes, expected: list[tuple[int, str | None, str]]) -> None:
    assert summary(run(JsonParser(Limits(MAX)), body, chunk)) == expected


@pytest.mark.parametrize("chunk", CHUNKS)
def test_json_array_elements_are_published_verbatim(chunk: int) -> None:
    records = [{"well_code": i, "name": f"é{i}", "n": 1e-7 * i} for i in range(50)]
    body = json.dumps(records, ensure_ascii=False, indent=2).encode()
    items = run(JsonParser(Limits(MAX)), body, chunk)
    assert [orjson.loads(i.raw) for i in items] == records
    assert [i.line for i in items] == list(range(1, 51))


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        pytest.param(b'\n  [{"well_code": 1}]', "json", id="array"),
        pytest.param(b'\xef\xbb\xbf{"well_code": 1}\n{"well_code": 2}', "ndjson", id="ndjson"),
    ],
)
def test_sniffing_chooses_by_the_first_byte(body: bytes, kind: str) -> None:
    items = run(SniffingParser(Limits(MAX)), body, 1)
    assert [i.key for i in items] == (["1"] if kind == "json" else ["1", "2"])


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        pytest.param("application/json; charset=utf-8", JsonParser, id="json"),
        pytest.param("application/x-ndjson", NdjsonParser, id="ndjson"),
        pytest.param(None, SniffingParser, id="absent"),
        pytest.param("text/csv", None, id="unsupported"),
    ],
)
def test_parser_for(content_type: str | None, expected: type | None) -> None:
    parser = parser_for(content_type, Limits(MAX))
    assert (type(parser) if parser else None) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(42, "42", id="int"),
        pytest.param(" 15/9-F-12 ", "15/9-F-12", id="str-stripped"),
        pytest.param("", None, id="blank"),
        pytest.param(True, None, id="bool"),
        pytest.param(4.0, None, id="float"),
        pytest.param(None, None, id="null"),
    ],
)
def test_well_key(value: object, expected: str | None) -> None:
    assert well_key(value) == expected
