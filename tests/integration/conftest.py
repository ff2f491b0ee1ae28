"""Fixtures the integration tests share (the infrastructure's are in ``tests/conftest.py``)."""

from collections.abc import AsyncIterator

import httpx
import pytest

from runtime.clickhouse import ClickHouse
from tests.integration.gateway_support import serve, settings


@pytest.fixture
async def api(
    clickhouse: ClickHouse, settings_env: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the gateway with the default test settings, on the test's engine."""
    async with serve(settings()) as client:
        yield client
