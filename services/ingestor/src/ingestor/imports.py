"""``POST /api/v1/imports``: pull the external well-production API page by page.

Each page is fetched with retries (jittered exponential backoff on timeouts, transport
errors and 5xx; a 429's ``Retry-After`` is honoured), published, and only then recorded
as done, so a failed import resumes from the first page not yet published.

The API answers ``GET {base}{path}?page=N&page_size=M`` with a JSON list of records or an
object holding them under ``data``/``items``/``records``/``results``; the last page is
the one whose ``next_page`` is null, whose number reaches ``total_pages``, or that is
short.
"""

import asyncio
import email.utils
import logging
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from ingestor.config import IngestorSettings
from ingestor.limits import Limits
from ingestor.parsing import Item, classify, json_error, unparseable

log = logging.getLogger(__name__)

_RECORD_KEYS = ("data", "items", "records", "results")
#: A page at least this large is decoded in a worker thread, the event loop free.
_THREAD_BYTES = 256 * 1024


class RetryableStatus(Exception):
    def __init__(self, status: int, retry_after_s: float | None) -> None:
        super().__init__(f"the API answered {status}")
        self.status = status
        self.retry_after_s = retry_after_s


class ApiRefused(Exception):
    """A response no retry will change (4xx other than 429, or not JSON)."""


def retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: a number or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.fromtimestamp(now if now is not None else time.time(), UTC)
    return max(0.0, (when - current).total_seconds())


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, RetryableStatus | httpx.TimeoutException | httpx.TransportError)


class _WaitRetryAfter:
    """The server's ``Retry-After`` when it gave one (capped), else jittered backoff."""

    def __init__(self, initial: float, maximum: float) -> None:
        self.backoff = wait_exponential_jitter(multiplier=initial, max=maximum)
        self.maximum = maximum

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableStatus) and exc.retry_after_s is not None:
            return min(exc.retry_after_s, self.maximum)
        return float(self.backoff(state))


def page_records(body: Any) -> list[Any]:
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in _RECORD_KEYS:
            if isinstance(body.get(key), list):
                records: list[Any] = body[key]
                return records
    raise ApiRefused("the page holds no list of records")


def next_page(body: Any, page: int, page_size: int, count: int) -> int | None:
    if isinstance(body, dict):
        if "next_page" in body:
            following = body["next_page"]
            return int(following) if following is not None else None
        total = body.get("total_pages")
        if isinstance(total, int):
            return page + 1 if page < total else None
    return page + 1 if count >= page_size and count > 0 else None


def page_items(records: list[Any], first_line: int, limits: Limits) -> list[Item]:
    items = []
    for offset, record in enumerate(records):
        line = first_line + offset
        try:
            raw = orjson.dumps(record)
        except TypeError as exc:  # integers beyond 64 bits, or nested beyond orjson's 255
            items.append(unparseable(line, repr(record).encode()[:10_000], str(exc)))
            continue
        items.append(classify(line, raw, record, limits))
    return items


async def decode_page(content: bytes, page: int, limits: Limits) -> Any:
    """A page's JSON, refused whole when it is not (NaN, Infinity and nesting beyond
    orjson's 1024 levels included); large pages are decoded off the event loop."""
    try:
        if len(content) < _THREAD_BYTES:
            return orjson.loads(content)
        return await asyncio.to_thread(orjson.loads, content)
    except orjson.JSONDecodeError as exc:
        reason = json_error(content, exc, limits).message
        raise ApiRefused(f"page {page} is not JSON: {reason}") from None


async def read_capped(response: httpx.Response, limit: int) -> bytes:
    """The response's body, refused once it passes ``limit`` bytes."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            raise ApiRefused(f"the page is larger than {limit} bytes")
    return bytes(body)


class ExternalApi:
    def __init__(self, settings: IngestorSettings, client: httpx.AsyncClient) -> None:
        if not settings.api_base_url:
            raise ValueError("WELLSTREAM_API_BASE_URL is not set")
        self.settings = settings
        self.client = client
        self.url = settings.api_base_url.rstrip("/") + settings.api_production_path

    def _headers(self) -> dict[str, str]:
        if self.settings.api_key is None:
            return {}
        key = self.settings.api_key.get_secret_value()
        return {"X-API-Key": key, "Authorization": f"Bearer {key}"}

    async def page(self, page: int, page_size: int, params: dict[str, str]) -> Any:
        """One page's JSON body, after retries; raises the last failure when they run out."""
        settings = self.settings
        retrying = AsyncRetrying(
            retry=retry_if_exception(_transient),
            wait=_WaitRetryAfter(
                settings.import_backoff_initial_seconds, settings.import_backoff_max_seconds
            ),
            stop=stop_after_attempt(settings.import_max_attempts),
            reraise=True,
            before_sleep=lambda s: log.warning(
                "page %d: %r; retrying (attempt %d)",
                page,
                s.outcome.exception() if s.outcome else None,
                s.attempt_number,
            ),
        )
        async for attempt in retrying:
            with attempt:
                return await self._get(page, page_size, params)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _get(self, page: int, page_size: int, params: dict[str, str]) -> Any:
        query = {**params, "page": str(page), "page_size": str(page_size)}
        request = self.client.build_request("GET", self.url, params=query, headers=self._headers())
        response = await self.client.send(request, stream=True)
        try:
            if response.status_code == 429 or response.status_code >= 500:
                wait = retry_after(response.headers.get("retry-after"))
                raise RetryableStatus(response.status_code, wait)
            if response.status_code >= 400:
                text = (await read_capped(response, 64 * 1024))[:200].decode("utf-8", "replace")
                raise ApiRefused(f"the API answered {response.status_code}: {text}")
            content = await read_capped(response, self.settings.import_max_page_bytes)
        finally:
            await response.aclose()
        return await decode_page(content, page, self.settings.limits)
