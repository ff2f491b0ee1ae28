"""No message stops its partition: a batch that fails on one message is split down to it,
and that message alone becomes a bounded dead letter; a transient failure still raises."""

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError

from contracts import DeadLetter, ErrorCode
from contracts.records import decode_canonical
from runtime.kafka import Outgoing
from tests.unit.validator.conftest import ACCEPTED_MS, NOW, good, message
from validator import handlers
from validator.config import ValidatorSettings
from validator.handlers import Steps
from validator.isolate import fitted, isolating
from validator.pipeline import RawMessage, process_batch
from validator.rules import Policy

SETTINGS = ValidatorSettings(reference_enabled=False)


class Sent:
    """A producer that keeps what it is asked to send, and may fail on some of it."""

    def __init__(self, fail_on: bytes | None = None, error: Exception | None = None) -> None:
        self.messages: list[Outgoing] = []
        self.fail_on, self.error = fail_on, error

    async def send_all(self, messages: Iterable[Outgoing]) -> int:
        batch = list(messages)
        if self.fail_on is not None and any(self.fail_on in m[1] for m in batch):
            raise self.error or MessageSizeTooLargeError("too large")
        self.messages += batch
        return len(batch)

    def on(self, topic: str) -> list[bytes]:
        return [value for t, value, _, _ in self.messages if t == topic]


def batch() -> list[RawMessage]:
    """Good records on two keys, with the poison one at offset 5 of partition 0."""
    items = [
        message(good(well_code=f"W{i}", note="poison" if i == 5 else "ok"), i, partition=i % 2)
        for i in range(12)
    ]
    return [*items, message(b"{not json", 12)]


def poisoned(messages: Sequence[RawMessage], policy: Policy, reference: Any) -> Any:
    if any(b"poison" in m.value for m in messages):
        raise ValueError("a bug this message alone meets")
    return process_batch(messages, policy, reference, NOW)


async def test_a_message_that_makes_processing_raise_becomes_a_dead_letter_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(handlers, "process_batch", poisoned)
    producer = Sent()
    steps = Steps(producer, SETTINGS, Policy(), None)  # type: ignore[arg-type]

    assert await isolating(batch(), steps.attempt, steps.give_up) == 1

    records = [decode_canonical(v) for v in producer.on(SETTINGS.topic_normalized)]
    assert sorted(r.source_offset for r in records) == [i for i in range(12) if i != 5]
    letters = [DeadLetter.model_validate_json(v) for v in producer.on(SETTINGS.topic_dlq)]
    by_offset = {d.source.offset: d for d in letters if d.source}
    assert sorted(by_offset) == [5, 12]
    poison = by_offset[5]
    assert [e.code for e in poison.errors] == [ErrorCode.PROCESSING_FAILED]
    assert "ValueError: a bug this message alone meets" in poison.errors[0].message
    assert orjson.loads(poison.original_bytes())["note"] == "poison"
    assert poison.accepted_at_ms == ACCEPTED_MS
    assert [e.code for e in by_offset[12].errors] == [ErrorCode.UNPARSEABLE_JSON]


async def test_a_publish_refused_for_one_message_makes_it_a_dead_letter() -> None:
    # Refused: the poison's normalized record. Its dead letter holds the payload as an
    # escaped JSON string (\"note\":\"poison\"), so that one goes through.
    producer = Sent(fail_on=b'"note":"poison"')
    steps = Steps(producer, SETTINGS, Policy(), None)  # type: ignore[arg-type]
    assert await isolating(batch(), steps.attempt, steps.give_up) == 1
    letters = [DeadLetter.model_validate_json(v) for v in producer.on(SETTINGS.topic_dlq)]
    poison = next(d for d in letters if d.source and d.source.offset == 5)
    assert [e.code for e in poison.errors] == [ErrorCode.MESSAGE_TOO_LARGE]
    assert len(producer.on(SETTINGS.topic_normalized)) == 11


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(KafkaConnectionError("broker away"), id="kafka-away"),
        pytest.param(TimeoutError(), id="timeout"),
    ],
)
async def test_a_transient_failure_raises_and_nothing_is_dead_lettered(error: Exception) -> None:
    producer = Sent(fail_on=b"poison", error=error)
    steps = Steps(producer, SETTINGS, Policy(), None)  # type: ignore[arg-type]
    with pytest.raises(type(error)):
        await isolating(batch(), steps.attempt, steps.give_up)
    assert producer.on(SETTINGS.topic_dlq) == []


def test_a_normalized_record_over_the_request_size_is_a_dead_letter_instead() -> None:
    big = message(good(well_code="BIG", note="x" * 300_000), 1)
    small = message(good(well_code="SMALL"), 2)
    huge_rejection = message(good(production_period=None, note="y" * 900_000), 3)
    result = process_batch([big, small, huge_rejection], Policy(), None, NOW)
    assert len(result.normalized) == 2

    out = fitted(result, [big, small, huge_rejection], 100_000)

    assert [n.key for n in out.normalized] == ["SMALL"]
    letters = {
        r.dead_letter.source.offset: r.dead_letter for r in out.rejected if r.dead_letter.source
    }
    assert [e.code for e in letters[1].errors] == [ErrorCode.MESSAGE_TOO_LARGE]
    assert letters[1].payload_truncated
    assert letters[3].payload_truncated
    assert all(len(d.model_dump_json()) < 20_000 for d in letters.values())


def test_a_dead_letter_over_a_tiny_request_size_keeps_less() -> None:
    item = message(good(production_period=None, note="y" * 100_000), 3)
    result = process_batch([item], Policy(), None, NOW)
    (rejection,) = fitted(result, [item], 8_000).rejected
    letter = rejection.dead_letter
    assert len(letter.model_dump_json()) < 8_000
    assert letter.payload_truncated
    assert letter.payload_bytes == len(item.value)
    assert letter.accepted_at_ms == ACCEPTED_MS
