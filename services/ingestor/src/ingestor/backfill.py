"""``wellstream-ingestor backfill FILE``: publish a CSV, JSON or NDJSON file (optionally
gzip) straight to the raw topic, with a progress bar, for millions of records.

It talks to Kafka through aiokafka's producer directly (idempotent, ``acks=all``, zstd,
like every service's): the per-message overhead of a framework publish would halve the
rate of a bulk load.
"""

import argparse
import asyncio
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from ingestor.config import IngestorSettings
from ingestor.files import (
    FallbackDecoder,
    Format,
    Progress,
    detect_format,
    file_batches,
    head_of,
)
from ingestor.parsing import Item
from ingestor.publish import Tally, dead_letter, headers
from runtime import kafka, logs
from runtime.settings import load


class ProgressBar:
    """One line on a terminal (or a line every few seconds elsewhere): share of the file
    read, records published, rate."""

    def __init__(self, total_bytes: int, out: IO[str], *, every: float | None = None) -> None:
        self.total = max(total_bytes, 1)
        self.out = out
        self.tty = out.isatty()
        self.every = every if every is not None else (0.2 if self.tty else 5.0)
        self.started = time.perf_counter()
        self._last = 0.0

    def update(self, done_bytes: int, tally: Tally, *, final: bool = False) -> None:
        now = time.perf_counter()
        if not final and now - self._last < self.every:
            return
        self._last = now
        share = min(done_bytes / self.total, 1.0)
        records = tally.accepted + tally.rejected
        rate = records / max(now - self.started, 1e-9)
        bar = "#" * int(share * 30)
        line = (
            f"[{bar:<30}] {share:6.1%}  {tally.accepted:,} published, "
            f"{tally.rejected:,} rejected  {rate:,.0f} records/s"
        )
        end = "\n" if final or not self.tty else ""
        self.out.write(("\r" if self.tty else "") + line + end)
        self.out.flush()


def producer_for(settings: IngestorSettings) -> AIOKafkaProducer:
    """The services' producer settings, with a longer linger and request timeout for a
    bulk load's full batches."""
    config = kafka.producer_config(settings) | {"linger_ms": 20, "request_timeout_ms": 60_000}
    return AIOKafkaProducer(client_id="ingestor-backfill", **config)


class BatchSender:
    """Fills one record batch per partition and hands full batches to the producer: a
    future per batch instead of per record, and the keyed partitioning of ``send``
    (murmur2, as Java clients do), so one well's records stay in order."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, partitions: list[int]) -> None:
        self.producer = producer
        self.topic = topic
        self.partitions = partitions
        self._partitioner = DefaultPartitioner()
        self._partition_of: dict[bytes, int] = {}
        self._builders: dict[int, Any] = {}
        self.futures: list[Any] = []

    async def add(self, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        partition = self._partition_of.get(key)
        if partition is None:
            partition = self._partitioner(key, self.partitions, self.partitions)
            self._partition_of[key] = partition
        builder = self._builders.get(partition)
        if builder is None:
            builder = self._builders[partition] = self.producer.create_batch()
        if builder.append(key=key, value=value, timestamp=None, headers=headers) is None:
            await self._send(partition)
            builder = self._builders[partition] = self.producer.create_batch()
            builder.append(key=key, value=value, timestamp=None, headers=headers)

    async def _send(self, partition: int) -> None:
        builder = self._builders.pop(partition)
        future = await self.producer.send_batch(builder, self.topic, partition=partition)
        self.futures.append(future)

    async def flush(self) -> None:
        """Send every partly filled batch and wait until Kafka acknowledged them all."""
        for partition in list(self._builders):
            await self._send(partition)
        futures, self.futures = self.futures, []
        await asyncio.gather(*futures)


async def backfill(
    path: Path,
    fmt: Format,
    settings: IngestorSettings,
    *,
    encoding: str | None = None,
    window: int = 200_000,
    out: IO[str] = sys.stderr,
) -> Tally:
    """Publish every record of ``path``; bad ones become dead letters. Returns the counts
    once Kafka acknowledged all of them."""
    size = path.stat().st_size  # noqa: ASYNC240 - one stat before the loop starts
    await kafka.ensure_topics(settings)
    producer = producer_for(settings)
    await producer.start()
    progress = Progress()
    bar = ProgressBar(size, out)
    batches = file_batches(
        path,
        fmt,
        limits=settings.limits,
        progress=progress,
        decoder=FallbackDecoder(encoding),
    )
    try:
        partitions = sorted(await producer.partitions_for(settings.topic_raw))
        sender = BatchSender(producer, settings.topic_raw, partitions)
        total = await _publish(
            batches, sender, settings, window, lambda t: bar.update(progress.bytes_read, t)
        )
    finally:
        await producer.stop()
    bar.update(progress.bytes_read, total, final=True)
    return total


async def _publish(
    batches: Iterable[list[Item]],
    sender: BatchSender,
    settings: IngestorSettings,
    window: int,
    report: Callable[[Tally], None],
) -> Tally:
    correlation = f"backfill-{uuid.uuid4().hex[:12]}"
    total, pending, letters = Tally(), Tally(), list[Any]()
    for batch in batches:
        now_ms = int(time.time() * 1000)
        sent = [(k, v.encode()) for k, v in headers(correlation, now_ms).items()]
        for item in batch:
            if item.key is not None:
                await sender.add(item.key.encode(), item.raw, sent)
            else:
                letters.append(await _dead_letter(sender.producer, settings, item, sent))
            pending.count(item)
        if pending.accepted + pending.rejected >= window:
            await _settle(sender, letters, pending, total)
            pending = Tally()
            report(total)
    await _settle(sender, letters, pending, total)
    return total


async def _settle(sender: BatchSender, letters: list[Any], pending: Tally, total: Tally) -> None:
    await sender.flush()
    await asyncio.gather(*letters)
    letters.clear()
    total.add(pending)


async def _dead_letter(
    producer: AIOKafkaProducer, settings: IngestorSettings, item: Item, sent: Any
) -> Any:
    return await producer.send(settings.topic_dlq, dead_letter(item), headers=sent)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="wellstream-ingestor backfill",
        description="Publish a CSV, JSON or NDJSON file (optionally gzip) to the raw topic.",
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--format", choices=["csv", "json", "ndjson"], help="default: detected")
    parser.add_argument("--encoding", help="default: UTF-8 (BOM or not), else Latin-1")
    parser.add_argument("--topic", help="default: WELLSTREAM_TOPIC_RAW")
    parser.add_argument("--window", type=int, default=200_000, help="records in flight")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    settings = load(IngestorSettings)
    logs.configure("WARNING", json=settings.log_json)
    if args.topic:
        settings = settings.model_copy(update={"topic_raw": args.topic})
    if not args.file.is_file():
        print(f"backfill: no such file: {args.file}", file=sys.stderr)
        return 2
    fmt = args.format or detect_format(args.file.name, "", head_of(args.file))
    started = time.perf_counter()
    tally = asyncio.run(
        backfill(args.file, fmt, settings, encoding=args.encoding, window=args.window)
    )
    elapsed = time.perf_counter() - started
    rate = (tally.accepted + tally.rejected) / max(elapsed, 1e-9)
    print(
        f"backfill: {tally.accepted:,} records published to {settings.topic_raw}, "
        f"{tally.rejected:,} dead-lettered, in {elapsed:.1f}s ({rate:,.0f} records/s)",
        file=sys.stderr,
    )
    return 0
