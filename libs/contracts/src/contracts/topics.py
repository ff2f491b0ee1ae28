"""Default topic names and message headers shared by every stage."""

from typing import Final

RAW: Final = "production.raw.v1"
NORMALIZED: Final = "production.normalized.v1"
DLQ: Final = "production.dlq.v1"

#: Header carrying the request/correlation id, set by whoever first accepts a record.
HEADER_CORRELATION_ID: Final = "x-correlation-id"
#: Header carrying the schema version of the message body.
HEADER_SCHEMA_VERSION: Final = "x-schema-version"
#: Header carrying the time (epoch milliseconds) the ingestor first accepted a record.
#: When absent, the Kafka timestamp of the raw message is used.
HEADER_ACCEPTED_AT: Final = "x-accepted-at"
