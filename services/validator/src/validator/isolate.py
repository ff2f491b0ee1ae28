"""No message stops its partition: a batch that fails on one message is split until that
message is alone, and it alone becomes a dead letter.

A batch whose handling raises is rewound and redelivered, every partition it holds with
it; one message that fails each time (a publish Kafka refuses, such as a record over the
producer's ``max_request_size``, or a bug it alone meets) would stop the validator for
good. So a failure that is not transient (``is_transient``: Kafka, Redis unreachable,
timeouts, which still raise and rewind) splits the batch in halves, each handled on its
own, down to the single message that fails: its dead letter says why
(``processing_failed``, or ``message_too_large``). What the halves publish twice is the
same records again (same ``record_id`` and ``version``), which reads see once.

Before anything is sent, ``fitted`` keeps each message under the producer's request size:
a normalized record too large to send is a ``message_too_large`` dead letter instead.
"""

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

from prometheus_client import Counter

from contracts import DeadLetter, ErrorCode, ErrorDetail
from contracts.records import decode_canonical
from runtime import kafka
from validator.messages import RawMessage
from validator.pipeline import Processed, Rejection, reject
from validator.reference import TRANSIENT as REDIS_TRANSIENT

log = logging.getLogger(__name__)

SPLITS = Counter(
    "wellstream_validator_batch_splits_total", "Batches split to find the message they fail on"
)
#: What a record's headers take at most besides its correlation id (schema version,
#: traceparent, names, varints); the size is measured with them all the same.
_HEADROOM: Final = 256

Attempt = Callable[[Sequence[RawMessage]], Awaitable[None]]
GiveUp = Callable[[RawMessage, BaseException], Awaitable[None]]


def is_transient(exc: BaseException) -> bool:
    """A dependency failing, not a message: Kafka or Redis away, a timeout."""
    return kafka.is_transient(exc) or isinstance(exc, REDIS_TRANSIENT)


async def isolating(messages: Sequence[RawMessage], attempt: Attempt, give_up: GiveUp) -> int:
    """``attempt`` the messages; when it fails other than transiently, each half on its own,
    down to the message that fails alone, which is handed to ``give_up``. Returns how many
    messages were given up on. A transient failure, or one of ``give_up``, raises."""
    try:
        await attempt(messages)
    except Exception as exc:
        if is_transient(exc):
            raise
        if len(messages) == 1:
            (message,) = messages
            log.warning(
                "message %s/%s/%s fails alone, made a dead letter",
                message.topic,
                message.partition,
                message.offset,
                exc_info=exc,
            )
            await give_up(message, exc)
            return 1
        SPLITS.inc()
        middle = len(messages) // 2
        first = await isolating(messages[:middle], attempt, give_up)
        return first + await isolating(messages[middle:], attempt, give_up)
    return 0


def failure(message: RawMessage, exc: BaseException) -> Rejection:
    """The dead letter of a message that fails alone, with the reason."""
    too_large = isinstance(exc, kafka.MESSAGE_ERRORS[:3])
    code = ErrorCode.MESSAGE_TOO_LARGE if too_large else ErrorCode.PROCESSING_FAILED
    reason = f"{type(exc).__name__}: {exc}"
    return reject(message, [ErrorDetail(code=code, message=reason)])


def fitted(result: Processed, messages: Sequence[RawMessage], max_bytes: int) -> Processed:
    """``result`` with each normalized record and dead letter under ``max_bytes`` as sent:
    a record too large is a dead letter of its message instead; a dead letter too large
    keeps less of its payload."""
    normalized, rejected = result.normalized, result.rejected
    if any(
        _size(item.body, item.key.encode(), item.correlation_id) > max_bytes for item in normalized
    ):
        by_offset = {(m.topic, m.partition, m.offset): m for m in messages}
        kept = []
        for item in normalized:
            size = _size(item.body, item.key.encode(), item.correlation_id)
            if size <= max_bytes:
                kept.append(item)
                continue
            record = decode_canonical(item.body)
            where = (record.source_topic, record.source_partition, record.source_offset)
            error = ErrorDetail(
                code=ErrorCode.MESSAGE_TOO_LARGE,
                message=f"the normalized record is {size} bytes, over {max_bytes}",
            )
            rejected = [*rejected, reject(by_offset[where], [error])]
        normalized = kept
    return Processed(normalized, [_within(r, max_bytes) for r in rejected], result.flags)


def _size(body: bytes, key: bytes | None, correlation_id: str | None) -> int:
    headers = [("", (correlation_id or "").encode())]
    return kafka.record_size(body, key, headers) + _HEADROOM


def _within(rejection: Rejection, max_bytes: int) -> Rejection:
    letter = rejection.dead_letter
    size = _size(letter.model_dump_json().encode(), rejection.key, rejection.correlation_id)
    if size <= max_bytes:
        return rejection
    # Only with a request size far below the usual: keep a payload a quarter of it.
    smaller = DeadLetter.for_payload(
        letter.original_bytes(),
        stage=letter.stage,
        errors=letter.errors[:1],
        source=letter.source,
        cap_bytes=max(max_bytes // 4, 256),
    )
    smaller.accepted_at_ms, smaller.organisation = letter.accepted_at_ms, letter.organisation
    if letter.payload_truncated:  # the whole original is not at hand: keep its facts
        smaller.payload_bytes, smaller.payload_sha256 = letter.payload_bytes, letter.payload_sha256
    return rejection._replace(dead_letter=smaller)
