"""Both APIs fuzzed from their OpenAPI documents (``tests/fuzzing.py``), each served by
uvicorn on 127.0.0.1 against the real Kafka, ClickHouse and Redis, with valid keys and
real rows in ClickHouse so that reads answer 200 too. A few hundred requests per API
here; ``make fuzz`` sends ``WELLSTREAM_FUZZ_REQUESTS`` (10,000 by default) and prints
the figures. No answer may be a 5xx, and every answer must be the documented one."""

import asyncio

import pytest

from gateway.app import create_app as gateway_app
from ingestor.app import create_app as ingestor_app
from runtime.clickhouse import ClickHouse
from tests import fuzzing
from tests.integration import gateway_support, ingestor_support
from tests.integration.gateway_support import Row, insert

pytestmark = [
    pytest.mark.integration,
    # schemathesis' strategies draw from ``random``, which Hypothesis frowns upon
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]

SUITE_REQUESTS = 300
GATEWAY_KEY = "gateway-fuzz-key-0123456789"


def _rows(unique: str) -> list[Row]:
    wells = [f"FZ{unique}{n}" for n in range(3)]
    periods = ["2023-11", "2023-12", "2024-01", "2024-02-03"]
    return [
        Row(well, period, field_code=f"FF{unique}", oil_bbl=10.0 + n, gas_mcf=5.0, water_bbl=1.0)
        for n, well in enumerate(wells)
        for period in periods
    ]


def _report(report: fuzzing.Report) -> fuzzing.Report:
    print(f"\n{report.render()}")
    return report


async def test_the_gateway_answers_every_generated_request_as_documented(
    clickhouse: ClickHouse, settings_env: dict[str, str], unique: str
) -> None:
    await insert(clickhouse, _rows(unique))
    keys = [{"name": "fuzz", "key": GATEWAY_KEY, "scopes": ["read", "admin"]}]
    app = gateway_app(gateway_support.settings(api_keys=keys))
    known = {"well_code": f"FZ{unique}0", "field_code": f"FF{unique}"}
    requests = fuzzing.budget(SUITE_REQUESTS)
    with fuzzing.served(app) as url:
        report = await asyncio.to_thread(fuzzing.fuzz, "gateway", url, GATEWAY_KEY, requests, known)
    _report(report)
    assert report.sent >= requests
    assert report.classes["2xx"] > 0
    assert (report.server_errors, report.failures) == (0, {})


async def test_the_ingestor_answers_every_generated_request_as_documented(
    settings_env: dict[str, str],
) -> None:
    # imports pull from an external API that is not there: they start, and fail behind
    app = ingestor_app(
        ingestor_support.settings(
            rate_limit_requests=1_000_000,
            api_base_url="http://127.0.0.1:1",
            import_max_attempts=1,
            max_concurrent_imports=1_000,
        )
    )
    requests = fuzzing.budget(SUITE_REQUESTS)
    with fuzzing.served(app) as url:
        report = await asyncio.to_thread(
            fuzzing.fuzz, "ingestor", url, ingestor_support.INGEST_KEY, requests, {}
        )
    _report(report)
    assert report.sent >= requests
    assert report.classes["2xx"] > 0
    assert (report.server_errors, report.failures) == (0, {})
