"""A record encoded by the validator reads back as the contract's; reference files are read."""

from pathlib import Path

import pytest

from contracts.records import decode_canonical, encode
from tests.unit.validator.conftest import NOW, good, message
from validator.enrich import WellRef
from validator.pipeline import process_batch
from validator.reference import ReferenceStore, read_wells
from validator.rules import Policy


def test_an_encoded_record_round_trips_through_the_contract() -> None:
    body = process_batch([message(good())], Policy(), None, NOW).normalized[0].body
    record = decode_canonical(body)
    assert encode(record) == body
    assert decode_canonical(encode(record)) == record


@pytest.mark.parametrize(
    ("name", "text"),
    [
        pytest.param(
            "wells.csv",
            "\ufeffwell_code,well_name,field_code,operator,basin,country,status\r\n"
            "01234,MRL-123D,77,Petrobras,Campos,BR,producing\r\n"
            "5678,,77,,,,\r\n",
            id="csv-with-bom-and-crlf",
        ),
        pytest.param(
            "wells.json",
            '{"wells": [{"well_code": 1234, "well_name": "MRL-123D", "field_code": 77,'
            ' "operator": "Petrobras", "basin": "Campos", "country": "BR",'
            ' "status": "producing"}, {"well_code": "5678", "field_code": "77"}]}',
            id="json",
        ),
    ],
)
def test_reference_files_are_read(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    first, second = read_wells(path)
    assert (first.key, first.operator, first.status) == ("1234", "Petrobras", "producing")
    assert (second.key, second.well_name, second.operator) == ("5678", None, None)


def test_a_bad_reference_row_is_named(tmp_path: Path) -> None:
    path = tmp_path / "wells.json"
    path.write_text('[{"well_code": "1"}, {"operator": "x"}]', encoding="utf-8")
    with pytest.raises(ValueError, match="row 2"):
        read_wells(path)


class _Redis:
    """An in-memory stand-in for what the store asks of Redis: ``mget``."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    async def mget(self, keys: list[str]) -> list[str | None]:
        return [self.values.get(key) for key in keys]


async def test_the_reference_cache_is_bounded_in_bytes() -> None:
    wells = {
        f"W{i}": WellRef(well_code=f"W{i}", operator="o" * 10_000, basin="b" * 10_000)
        for i in range(200)
    }
    redis = _Redis({f"p:{code}": ref.model_dump_json() for code, ref in wells.items()})
    store = ReferenceStore(redis, prefix="p:", max_bytes=1_000_000)  # type: ignore[arg-type]
    for start in range(0, 200, 20):
        found = await store.lookup(f"W{i}" for i in range(start, start + 20))
        assert found == {f"W{i}": wells[f"W{i}"] for i in range(start, start + 20)}
    assert 0 < store.cached_bytes <= 1_000_000
    assert store.cached_bytes == sum(size for _, _, size in store._cache.values())
    assert 20 < len(store._cache) < 100
    assert "W199" in store._cache
    assert "W0" not in store._cache, "the oldest went first"
    assert await store.lookup(["W0"]) == {"W0": wells["W0"]}, "asked of Redis again"
