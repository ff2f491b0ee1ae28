"""Consumer groups' committed offsets, for ``wellstream backup`` and ``restore``: read
them, check a group has no active member, find records retention already deleted, and
set a group's offsets back to recorded ones."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupCoordinatorNotAvailableError
from aiokafka.structs import OffsetAndMetadata

from runtime import kafka
from runtime.settings import Settings

#: partition -> the next offset the group reads (``None``: the group never committed
#: one, it starts at the beginning of the partition).
Offsets = dict[int, int | None]


class OffsetsError(RuntimeError):
    """A group cannot be read or moved as asked; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Group:
    """A consumer group and the topic whose offsets matter for a backup."""

    name: str
    topic: str


def groups(settings: Settings) -> dict[str, Group]:
    """The groups of the pipeline by role, named as the services name them from
    ``WELLSTREAM_CONSUMER_GROUP_PREFIX`` (``writer.handlers``, ``validator.handlers``)."""
    prefix = settings.consumer_group_prefix
    return {
        "writer": Group(f"{prefix}.writer", settings.topic_normalized),
        "writer_dlq": Group(f"{prefix}.writer-dlq", settings.topic_dlq),
        "validator": Group(f"{prefix}.validator", settings.topic_raw),
    }


async def stop(consumer: AIOKafkaConsumer) -> None:
    """Stop ``consumer``. aiokafka cancels the task a consumer without a group starts
    and re-raises its CancelledError when that task had not run yet; that one is not
    this task's cancellation."""
    try:
        await consumer.stop()
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise


@contextlib.asynccontextmanager
async def _clients(
    settings: Settings,
) -> AsyncIterator[tuple[AIOKafkaAdminClient, AIOKafkaConsumer]]:
    admin = AIOKafkaAdminClient(**kafka.connection(settings), client_id="wellstream-backup")
    consumer = AIOKafkaConsumer(**kafka.connection(settings), client_id="wellstream-backup")
    await admin.start()
    try:
        await consumer.start()
        try:
            yield admin, consumer
        finally:
            await stop(consumer)
    finally:
        await admin.close()


async def partitions(admin: AIOKafkaAdminClient, topic: str) -> list[TopicPartition]:
    (described,) = await admin.describe_topics([topic])
    found = sorted(p["partition"] for p in described.get("partitions") or [])
    if described.get("error_code") or not found:
        raise OffsetsError(f"topic {topic} does not exist on the broker")
    return [TopicPartition(topic, p) for p in found]


async def _committed(
    admin: AIOKafkaAdminClient, group: Group, tps: list[TopicPartition]
) -> Offsets:
    for attempt in range(20):  # a fresh broker creates its offsets topic on first use
        try:
            found = await admin.list_consumer_group_offsets(group.name, partitions=tps)
            break
        except GroupCoordinatorNotAvailableError:
            if attempt == 19:
                raise
            await asyncio.sleep(0.5)
    return {
        tp.partition: (found[tp].offset if tp in found and found[tp].offset >= 0 else None)
        for tp in tps
    }


async def committed(settings: Settings, wanted: dict[str, Group]) -> dict[str, Offsets]:
    """Each group's committed offsets on its topic, every partition named."""
    async with _clients(settings) as (admin, _consumer):
        out = {}
        for role, group in wanted.items():
            out[role] = await _committed(admin, group, await partitions(admin, group.topic))
        return out


async def members(settings: Settings, group: Group) -> int:
    """How many consumers are members of ``group`` right now."""
    async with _clients(settings) as (admin, _consumer):
        (response,) = await admin.describe_consumer_groups([group.name])
    return sum(len(described[5]) for described in response.groups)


async def ensure_idle(settings: Settings, wanted: list[Group]) -> None:
    """An OffsetsError when a group has an active member: its offsets cannot be moved
    under it, and a running writer would insert while the tables are restored."""
    for group in wanted:
        if count := await members(settings, group):
            raise OffsetsError(
                f"consumer group {group.name} has {count} active member(s): stop every"
                " writer before restoring (its offsets are reset to the backup's)"
            )


async def gaps(settings: Settings, group: Group, offsets: Offsets) -> dict[int, tuple[int, int]]:
    """Partitions whose records from the recorded offset on are partly gone (retention
    deleted them): partition -> (recorded offset, first offset still held)."""
    async with _clients(settings) as (admin, consumer):
        tps = await partitions(admin, group.topic)
        start = await consumer.beginning_offsets(tps)
    out = {}
    for tp in tps:
        recorded = offsets.get(tp.partition)
        if start[tp] > (recorded or 0):
            out[tp.partition] = (recorded or 0, start[tp])
    return out


async def reset(settings: Settings, group: Group, offsets: Offsets) -> dict[int, int]:
    """Commit ``offsets`` for ``group`` (the beginning of a partition where ``None``);
    the group must have no member. Returns the offsets committed."""
    async with _clients(settings) as (admin, _consumer):
        tps = await partitions(admin, group.topic)
    consumer = AIOKafkaConsumer(
        **kafka.connection(settings),
        client_id="wellstream-restore",
        group_id=group.name,
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        start = await consumer.beginning_offsets(tps)
        target = {
            tp: start[tp] if offsets.get(tp.partition) is None else int(offsets[tp.partition] or 0)
            for tp in tps
        }
        await consumer.commit(
            {tp: OffsetAndMetadata(o, "wellstream restore") for tp, o in target.items()}
        )
    finally:
        await consumer.stop()
    return {tp.partition: o for tp, o in target.items()}
