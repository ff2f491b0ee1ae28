"""ClickHouse access through clickhouse-connect, for a server over HTTP(S) or the
embedded chDB engine (``chdb:///path``).

The async client of clickhouse-connect does not support chDB, so every call runs the
sync client in a worker thread. Transient failures are retried with backoff here, at
the adapter, so callers see either success or a failure worth surfacing.
"""

import asyncio
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_delay,
    wait_exponential_jitter,
)

T = TypeVar("T")


def _require_embedded() -> None:
    """chDB is an optional extra (``wellstream-runtime[embedded]``), left out of the
    production image: imported only for a ``chdb://`` URL, and missing, said so."""
    try:
        import chdb  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(
            "a chdb:// ClickHouse URL needs the embedded engine, which is not installed"
            " (the production image leaves it out): install wellstream-runtime[embedded]"
            " (`make install` does), or set WELLSTREAM_CLICKHOUSE_URL to a server's"
            " http(s):// URL"
        ) from exc


def connect(url: str, *, ca_file: Path | None = None) -> Client:
    """A sync client for ``chdb:///path`` or ``http(s)://user:pass@host:port/db``. An
    ``https://`` server's certificate is verified, against ``ca_file`` when given
    (otherwise the system's CAs)."""
    if url.startswith("chdb://"):
        _require_embedded()
        path = url.removeprefix("chdb://") or ":memory:"
        if path != ":memory:":
            path = os.path.abspath(path)
        return clickhouse_connect.get_client(dsn=f"chdb://{path}")
    parts = urlparse(url)
    return clickhouse_connect.get_client(
        host=parts.hostname or "localhost",
        port=parts.port or (8443 if parts.scheme == "https" else 8123),
        username=unquote(parts.username or "default"),
        password=unquote(parts.password or ""),
        database=parts.path.lstrip("/") or "default",
        secure=parts.scheme == "https",
        # no session: a session runs one query at a time, and a client's queries run
        # concurrently (the gateway's threads share them)
        autogenerate_session_id=False,
        verify=True,
        ca_cert=str(ca_file) if ca_file else None,
        compress=False,
    )


def is_transient(exc: BaseException) -> bool:
    """Connection trouble and server overload are worth retrying; bad SQL or bad rows
    are not."""
    if isinstance(exc, OperationalError | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, DatabaseError):
        text = str(exc)
        return any(code in text for code in ("TOO_MANY_PARTS", "TIMEOUT", "MEMORY_LIMIT"))
    return False


def is_too_large(exc: BaseException) -> bool:
    """The query's answer exceeds the engine's ``max_result_rows`` or ``max_result_bytes``
    (``result_overflow_mode = throw``): the caller asked for too much, nothing is down."""
    return isinstance(exc, DatabaseError) and "TOO_MANY_ROWS_OR_BYTES" in str(exc)


class ClickHouse:
    """Async facade over a sync client: each call runs in a worker thread and is retried
    with jittered exponential backoff while the failure is transient. ``limits`` are
    query settings every query and command carries (e.g. ``max_execution_time``); a
    call's own settings win."""

    def __init__(
        self,
        client: Client,
        *,
        retry_for: float = 60.0,
        on_retry: Callable[[BaseException], None] | None = None,
        limits: dict[str, Any] | None = None,
    ) -> None:
        self.client = client
        self._retry_for = retry_for
        self._on_retry = on_retry
        self._limits = limits or {}

    def _settings(self, settings: Any) -> Any:
        return {**self._limits, **(settings or {})} if self._limits else settings

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        on_retry = self._on_retry

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            if on_retry is not None and exc is not None:
                on_retry(exc)

        retrying = AsyncRetrying(
            retry=retry_if_exception(is_transient),
            wait=wait_exponential_jitter(multiplier=0.2, max=5.0, jitter=0.5),
            stop=stop_after_delay(self._retry_for),
            reraise=True,
            before_sleep=before_sleep,
        )
        async for attempt in retrying:
            with attempt:
                return await asyncio.to_thread(fn, *args, **kwargs)
        raise AssertionError("unreachable")  # pragma: no cover

    async def command(self, sql: str, parameters: Any = None, settings: Any = None) -> Any:
        return await self._run(
            self.client.command, sql, parameters=parameters, settings=self._settings(settings)
        )

    async def rows(
        self, sql: str, parameters: Any = None, settings: Any = None
    ) -> list[tuple[Any, ...]]:
        result = await self._run(
            self.client.query, sql, parameters=parameters, settings=self._settings(settings)
        )
        return [tuple(row) for row in result.result_rows]

    async def named_rows(
        self, sql: str, parameters: Any = None, settings: Any = None
    ) -> list[dict[str, Any]]:
        result = await self._run(
            self.client.query, sql, parameters=parameters, settings=self._settings(settings)
        )
        return list(result.named_results())

    async def insert(
        self,
        table: str,
        columns: Sequence[Sequence[Any]],
        column_names: Sequence[str],
        settings: dict[str, Any] | None = None,
    ) -> None:
        """Column-oriented insert: ``columns[i]`` holds every value of ``column_names[i]``."""
        await self._run(
            self.client.insert,
            table,
            columns,
            column_names=column_names,
            column_oriented=True,
            settings=settings,
        )

    async def insert_raw(
        self, table: str, data: bytes, fmt: str, settings: dict[str, Any] | None = None
    ) -> None:
        """Insert ``data`` already encoded in ClickHouse input format ``fmt`` (e.g.
        ``JSONEachRow``): the server parses it, no Python value per column is built."""
        await self._run(self.client.raw_insert, table, None, data, settings=settings, fmt=fmt)

    async def ping(self) -> None:
        await asyncio.to_thread(self.client.command, "SELECT 1")

    def close(self) -> None:
        self.client.close()
