"""Per-request context shared by logging and the HTTP layer."""

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
