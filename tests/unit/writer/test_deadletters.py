"""Dead-letter rows: deterministic ids and columns."""

from datetime import UTC, datetime, timedelta

from contracts import DeadLetter, ErrorDetail, KafkaSource
from writer import deadletters

ERR = [ErrorDetail(field="well_code", code="missing_field", message="required")]
SOURCE = KafkaSource(topic="raw", partition=1, offset=7)


def letter(**changes: object) -> DeadLetter:
    base = DeadLetter.for_payload(b'{"a": 1}', stage="validator", errors=ERR, source=SOURCE)
    return base.model_copy(update=changes)


def test_the_same_rejection_published_twice_has_one_id() -> None:
    later = letter(failed_at=datetime.now(UTC) + timedelta(minutes=5))

    assert deadletters.dead_letter_id(letter()) == deadletters.dead_letter_id(later)


def test_rejections_of_different_messages_have_different_ids() -> None:
    other = letter(source=KafkaSource(topic="raw", partition=1, offset=8))

    assert deadletters.dead_letter_id(letter()) != deadletters.dead_letter_id(other)


def test_http_rejections_without_a_source_are_told_apart_by_time() -> None:
    first = letter(source=None, line=3)
    second = letter(source=None, line=3, failed_at=first.failed_at + timedelta(seconds=1))

    assert deadletters.dead_letter_id(first) != deadletters.dead_letter_id(second)


def test_a_message_that_is_not_a_dead_letter_is_kept_wrapped() -> None:
    got = deadletters.parse(b"\xff\xfe", topic="dlq", partition=0, offset=3)

    assert got.stage == "writer"
    assert [e.code for e in got.errors] == ["unparseable_json"]
    assert got.source == KafkaSource(topic="dlq", partition=0, offset=3)
    assert got.original_bytes() == b"\xff\xfe"


def test_columns_follow_the_column_list() -> None:
    columns = deadletters.to_columns([(letter(), 2, 11)])

    row = {name: col[0] for name, col in zip(deadletters.DEAD_LETTER_COLUMNS, columns, strict=True)}
    assert row["stage"] == "validator"
    assert row["error_codes"] == ["missing_field"]
    assert (row["source_topic"], row["source_partition"], row["source_offset"]) == ("raw", 1, 7)
    assert (row["kafka_partition"], row["kafka_offset"]) == (2, 11)
    assert row["payload"] == '{"a": 1}'
