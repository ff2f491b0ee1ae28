"""Every parser caps a record's size, fields and nesting in linear time; each symptom
the hardening issue found is reproduced here and now answers a rejected line."""

import gzip
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from contracts import ErrorCode
from ingestor.csvrows import csv_items
from ingestor.files import file_batches
from ingestor.imports import page_items
from ingestor.jsonarray import JsonParser
from ingestor.limits import NOT_A_NUMBER, OUT_OF_RANGE, Limits
from ingestor.parsing import Item, NdjsonParser, Parser

LIMITS = Limits()


def run(parser: Parser, body: bytes, chunk: int = 1024) -> list[Item]:
    items: list[Item] = []
    for start in range(0, len(body), chunk):
        items += parser.feed(body[start : start + chunk])
    return items + parser.close()


def measured(work: Callable[[], object]) -> tuple[object, float, int]:
    """The result, seconds taken and peak bytes allocated."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = work()
        return result, time.perf_counter() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def summary(items: list[Item]) -> list[tuple[int, str | None, str | None]]:
    return [(i.line, i.key, i.errors[0].code if i.errors else None) for i in items]


PARSERS = [pytest.param(NdjsonParser, id="ndjson"), pytest.param(JsonParser, id="json")]
ParserType = type[NdjsonParser] | type[JsonParser]


def test_a_csv_line_without_end_is_cut_in_linear_time(tmp_path: Path) -> None:
    # Today: a 96 KB .csv.gz (100 MB of one line) took 230 MiB and 4.8 s.
    path = tmp_path / "one-line.csv.gz"
    path.write_bytes(gzip.compress(b"well_code,x\n1," + b"a" * 100_000_000 + b"\n2,b\n"))

    def read() -> list[Item]:
        return [i for batch in file_batches(path, "csv", limits=LIMITS) for i in batch]

    items, seconds, peak = measured(read)

    assert summary(items) == [(2, None, ErrorCode.RECORD_TOO_LARGE), (3, "2", None)]  # type: ignore[arg-type]
    assert seconds < 4.0
    assert peak < 32 * 1024**2


def test_a_csv_row_over_many_quoted_lines_is_skipped_whole() -> None:
    quoted = '"' + 'x ""y""\n' * 40_000 + '"'
    text = f"well_code,note\n1,{quoted}\n2,ok\n"
    items = list(csv_items([text[i : i + 1000] for i in range(0, len(text), 1000)], LIMITS))
    # The csv module's own field limit (128 Ki characters) may come first: either way
    # one rejected row, and the next read as it was.
    assert [(i.line, i.key) for i in items] == [(40_002, None), (40_003, "2")]


def test_a_json_element_in_1kib_chunks_is_decoded_in_linear_time() -> None:
    # Today: a 1 MB element fed in 1 KiB chunks took 7 s of event-loop CPU.
    element = orjson.dumps({"well_code": 1, "pad": "x" * 1_000_000})
    parser = JsonParser(Limits(record_bytes=2 * 1024**2, field_bytes=2 * 1024**2))
    slowest = 0.0
    items: list[Item] = []
    body = b"[" + element + b"]"
    for start in range(0, len(body), 1024):
        started = time.perf_counter()
        items += parser.feed(body[start : start + 1024])
        slowest = max(slowest, time.perf_counter() - started)
    items += parser.close()

    assert summary(items) == [(1, "1", None)]
    assert slowest < 0.05  # the largest single decode: 2 MB of buffer at most


@pytest.mark.parametrize("parser", PARSERS)
def test_a_record_over_the_limit_is_rejected_and_the_next_kept(parser: ParserType) -> None:
    big = orjson.dumps({"well_code": 1, "pad": 'a"]}[{' * 100_000})
    small = b'{"well_code": 2}'
    body = b"[" + big + b"," + small + b"]" if parser is JsonParser else big + b"\n" + small
    items = run(parser(LIMITS), body)
    assert summary(items) == [(1, None, ErrorCode.RECORD_TOO_LARGE), (2, "2", None)]
    assert len(items[0].raw) <= LIMITS.record_bytes


DEEP = b'{"well_code": 1, "x": ' + b"[" * 3000 + b"]" * 3000 + b"}"
BIG_INT = b'{"well_code": ' + b"9" * 5000 + b"}"


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize(
    ("record", "code", "message"),
    [
        pytest.param(DEEP, ErrorCode.LIMIT_EXCEEDED, "nested deeper than 32", id="3000-deep"),
        pytest.param(
            b'{"well_code": 1, "x": ' + b"[" * 40 + b"]" * 40 + b"}",
            ErrorCode.LIMIT_EXCEEDED,
            "nested deeper than 32",
            id="40-deep",
        ),
        pytest.param(BIG_INT, ErrorCode.UNPARSEABLE_JSON, OUT_OF_RANGE, id="5000-digits"),
        pytest.param(b'{"well_code": 1, "x": 1e999}', "unparseable_json", OUT_OF_RANGE, id="1e999"),
        pytest.param(b'{"well_code": 1, "x": NaN}', "unparseable_json", NOT_A_NUMBER, id="nan"),
        pytest.param(
            b'{"well_code": 1, "x": -Infinity}', "unparseable_json", NOT_A_NUMBER, id="-inf"
        ),
        pytest.param(
            orjson.dumps({"well_code": 1, **{f"f{i}": i for i in range(1001)}}),
            ErrorCode.LIMIT_EXCEEDED,
            "more than 1000 fields",
            id="1001-fields",
        ),
        pytest.param(
            orjson.dumps({"well_code": 1, "x": "y" * 70_000}),
            ErrorCode.LIMIT_EXCEEDED,
            "a field is longer than 65536 bytes",
            id="long-field",
        ),
    ],
)
def test_every_path_refuses_alike(
    parser: ParserType, record: bytes, code: str, message: str
) -> None:
    # Today: deep nesting and a 5,000-digit integer answered 500 on the JSON path, and
    # NaN was accepted there while NDJSON refused it.
    body = b"[" + record + b', {"well_code": 2}]' if parser is JsonParser else record + b"\n{}"
    items = run(parser(LIMITS), body, chunk=1 << 20)
    assert items[0].key is None
    assert (items[0].errors[0].code, items[0].errors[0].message[: len(message)]) == (
        code,
        message,
    )
    assert len(items) == 2


def test_imports_check_each_record_alike() -> None:
    records = [{"well_code": 1, "x": "y" * 70_000}, {"well_code": 2}]
    items = page_items(records, first_line=1, limits=LIMITS)
    assert summary(items) == [(1, None, ErrorCode.LIMIT_EXCEEDED), (2, "2", None)]


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        pytest.param("well_code," + ".".join(["a"] * 40), "nested deeper", id="deep-header"),
        pytest.param("well_code,a,a.b", "inside column 'a'", id="conflicting-header"),
        pytest.param(",".join(f"c{i}" for i in range(1001)), "more than 1000 columns", id="wide"),
    ],
)
def test_a_csv_header_that_cannot_name_a_record_is_one_rejected_line(
    header: str, reason: str
) -> None:
    items = list(csv_items([header + "\n1,2,3\n"], LIMITS))
    assert len(items) == 1
    assert items[0].errors[0].code == ErrorCode.LIMIT_EXCEEDED
    assert reason in items[0].errors[0].message
