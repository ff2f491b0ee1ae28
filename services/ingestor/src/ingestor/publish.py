"""Batched publishing of parsed items: records to the raw topic, rejects to the DLQ.

Every item of a window is sent without waiting, then the window's acknowledgements are
awaited together: an awaited publish per message runs at a few thousand records/s, a
window at tens of thousands. Counts only grow once the broker acknowledged, so a
caller never reports as accepted what Kafka does not hold.
"""

import asyncio
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiokafka.errors import KafkaError
from faststream.exceptions import FastStreamException
from faststream.kafka import KafkaBroker
from opentelemetry.trace import SpanKind
from pydantic import BaseModel

from contracts import SCHEMA_VERSION, DeadLetter, ErrorDetail, topics
from ingestor.metrics import RECORDS
from ingestor.parsing import Item, owned
from runtime import tracing

#: Rejected line numbers listed in a response at most; the counts stay exact.
MAX_LISTED_REJECTS = 1000
#: Rejected records listed with their reasons at most (the first ones).
MAX_EXPLAINED_REJECTS = 100


class KafkaUnavailable(Exception):
    """Kafka did not take the records in time; the caller should retry later."""


class Rejection(BaseModel):
    """A rejected record: its line (or position in a JSON array), and why."""

    line: int
    errors: list[ErrorDetail]


@dataclass(slots=True)
class Tally:
    accepted: int = 0
    rejected: int = 0
    rejected_lines: list[int] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    def count(self, item: Item) -> None:
        if item.key is None:
            self.rejected += 1
            self.rejected_lines.append(item.line)
            if len(self.rejections) < MAX_EXPLAINED_REJECTS:
                self.rejections.append(Rejection(line=item.line, errors=item.errors))
        else:
            self.accepted += 1

    def add(self, other: "Tally") -> None:
        self.accepted += other.accepted
        self.rejected += other.rejected
        room = MAX_LISTED_REJECTS - len(self.rejected_lines)
        self.rejected_lines.extend(other.rejected_lines[:room])
        room = MAX_EXPLAINED_REJECTS - len(self.rejections)
        self.rejections.extend(other.rejections[:room])


def headers(correlation_id: str, accepted_at_ms: int) -> dict[str, str]:
    return {
        "content-type": "application/json",
        topics.HEADER_CORRELATION_ID: correlation_id,
        topics.HEADER_SCHEMA_VERSION: str(SCHEMA_VERSION),
        topics.HEADER_ACCEPTED_AT: str(accepted_at_ms),
    }


def dead_letter(item: Item, organisation: str | None = None) -> bytes:
    """The DLQ message for an item that did not parse: its raw bytes, errors and line,
    owned by the organisation of the key that posted it (without a key, as a backfill
    publishes straight to Kafka: the one the record names, else the default one)."""
    letter = DeadLetter.for_payload(item.raw, stage="ingestor", errors=item.errors, line=item.line)
    letter.organisation = organisation or letter.organisation
    return letter.model_dump_json().encode()


@dataclass(frozen=True, slots=True)
class Run:
    """One ``publish_all``: its correlation id, the poster's organisation, its progress."""

    correlation_id: str
    organisation: str
    on_progress: Callable[[Tally], Awaitable[None]] | None

    def owned(self, item: Item) -> Item:
        return owned(item, self.organisation)


class Publisher:
    """Publishes through the service's FastStream broker (idempotent, ``acks=all``)."""

    def __init__(
        self,
        broker: KafkaBroker,
        *,
        raw_topic: str,
        dlq_topic: str,
        window: int = 10_000,
        timeout_s: float = 30.0,
    ) -> None:
        self.broker = broker
        self.raw_topic = raw_topic
        self.dlq_topic = dlq_topic
        self.window = window
        self.timeout_s = timeout_s
        self.connected = False

    async def publish_all(
        self,
        batches: AsyncIterable[list[Item]] | Iterable[list[Item]],
        correlation_id: str,
        on_progress: Callable[[Tally], Awaitable[None]] | None = None,
        *,
        organisation: str,
    ) -> Tally:
        """Publish every batch as records of ``organisation`` (``parsing.owned``); raise
        KafkaUnavailable when Kafka fails or stalls. ``on_progress`` sees the running
        totals after each acknowledged window. Traced, in a producer span whose
        ``traceparent`` every message carries."""
        if not self.connected:
            raise KafkaUnavailable("not connected to Kafka")
        tracer = tracing.tracer("ingestor")
        run = Run(correlation_id, organisation, on_progress)
        if tracer is None:
            return await self._publish_all(batches, run, traced=False)
        with tracer.start_as_current_span(f"publish {self.raw_topic}", kind=SpanKind.PRODUCER):
            return await self._publish_all(batches, run, traced=True)

    async def _publish_all(
        self,
        batches: AsyncIterable[list[Item]] | Iterable[list[Item]],
        run: "Run",
        *,
        traced: bool,
    ) -> Tally:
        total, pending, window = Tally(), [], Tally()
        try:
            async for batch in _aiter(batches):
                sent_at = headers(run.correlation_id, int(time.time() * 1000))
                if traced:
                    tracing.inject(sent_at)
                # A send blocks while the producer's buffer is full or metadata is
                # missing: the timeout turns a dead broker into a prompt 503.
                async with asyncio.timeout(self.timeout_s):
                    for item in map(run.owned, batch):
                        pending.append(await self._send(item, sent_at, run))
                        window.count(item)
                if len(pending) >= self.window:
                    await self._confirm(pending, window)
                    total.add(window)
                    pending, window = [], Tally()
                    if run.on_progress is not None:
                        await run.on_progress(total)
            await self._confirm(pending, window)
        except _KAFKA_FAILURES as exc:
            for future in pending:
                if future is not None:
                    future.cancel()
            RECORDS.labels("failed").inc(window.accepted + window.rejected)
            raise KafkaUnavailable(f"Kafka did not take the records: {exc!r}") from exc
        total.add(window)
        return total

    async def _send(self, item: Item, sent_at: dict[str, str], run: "Run") -> Any:
        if item.key is not None:
            topic, key, body = self.raw_topic, item.key.encode(), item.raw
        else:
            topic, key, body = self.dlq_topic, None, dead_letter(item, run.organisation)
        return await self.broker.publish(
            body,
            topic,
            key=key,
            headers=sent_at,
            correlation_id=run.correlation_id,
            no_confirm=True,
        )

    async def _confirm(self, pending: list[Any], window: Tally) -> None:
        # FastStream's test broker delivers in place and hands back no future.
        futures = [f for f in pending if f is not None]
        if futures:
            async with asyncio.timeout(self.timeout_s):
                await asyncio.gather(*futures)
        RECORDS.labels("accepted").inc(window.accepted)
        RECORDS.labels("rejected").inc(window.rejected)


_KAFKA_FAILURES = (KafkaError, FastStreamException, TimeoutError, ConnectionError)


async def _aiter(
    batches: AsyncIterable[list[Item]] | Iterable[list[Item]],
) -> AsyncIterable[list[Item]]:
    if isinstance(batches, AsyncIterable):
        async for batch in batches:
            yield batch
    else:
        for batch in batches:
            yield batch
