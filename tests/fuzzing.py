"""Fuzzing driven by the OpenAPI documents: schemathesis generates requests for every
operation of a running API (valid ones and invalid ones), sends them over real HTTP and
checks every answer against the document.

The checks: no 5xx (``not_a_server_error``), a status the operation documents, the
content type it documents, a body matching the documented schema, and, for every 4xx,
the one error shape. What cannot be checked is left out and named in ``UNCHECKED``.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import hypothesis.errors
import requests
import schemathesis
import uvicorn
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from wellstream.infra import free_port

#: Requests per API of ``make fuzz`` (the suite runs a few hundred).
REQUESTS_VARIABLE = "WELLSTREAM_FUZZ_REQUESTS"

#: Operations not fuzzed (none: the probes and ``/metrics`` take no input, but their
#: answers are checked all the same).
SKIPPED: frozenset[str] = frozenset()

#: What the checks cannot see: the bytes of a streamed export (CSV or Parquet) have no
#: JSON schema, so only their status and content type are checked.
UNCHECKED = "the body of a streamed export (CSV, Parquet): status and content type only"

ERROR_KEYS = frozenset({"error_code", "message", "details", "request_id", "timestamp"})


def error_shape(_ctx: Any, response: Any, _case: Any) -> bool | None:
    """Every 4xx answers ``{"error_code", "message", "details", "request_id", "timestamp"}``."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = response.json()
    except ValueError:
        raise Failure(operation="", title="4xx is not JSON", message=response.text[:200]) from None
    if not isinstance(body, dict) or set(body) != ERROR_KEYS:
        raise Failure(
            operation="",
            title="4xx is not in the error shape",
            message=f"keys {sorted(body) if isinstance(body, dict) else type(body).__name__}",
        )
    return True


CHECKS: list[Callable[..., bool | None]] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    error_shape,
]


@dataclass
class Report:
    """What one API answered: requests sent, answers per status class, and each distinct
    failure (operation and check) with one example."""

    api: str
    sent: int = 0
    classes: Counter[str] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def server_errors(self) -> int:
        return self.classes["5xx"]

    def record(self, operation: str, status: int | None, problems: list[str]) -> None:
        self.sent += 1
        self.classes[f"{status // 100}xx" if status else "no answer"] += 1
        for problem in problems:
            title, _, example = problem.partition("\n")
            self.failures.setdefault(f"{operation}: {title}", example[:600])

    def render(self) -> str:
        classes = ", ".join(f"{name} {count}" for name, count in sorted(self.classes.items()))
        lines = [f"{self.api}: {self.sent} requests; {classes}; 5xx: {self.server_errors}"]
        lines.append(f"  failures: {len(self.failures)}")
        lines += [f"  - {name}\n      {example}" for name, example in self.failures.items()]
        return "\n".join(lines)


@contextlib.contextmanager
def served(app: FastAPI, within_s: float = 60.0) -> Iterator[str]:
    """``app`` served by uvicorn on 127.0.0.1 in a thread of its own; yields its URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + within_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the app did not start on port {port}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(within_s)


def budget(default: int) -> int:
    return int(os.environ.get(REQUESTS_VARIABLE) or default)


def fuzz(
    api: str, base_url: str, api_key: str, requests_per_api: int, known: dict[str, str]
) -> Report:
    """About ``requests_per_api`` generated requests spread over the API's operations,
    in rounds of valid data, valid data with ``known`` path parameters (codes that exist,
    so reads answer 200) and invalid data, until the budget is spent."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if isinstance(result, Ok) and _label(result.ok()) not in SKIPPED
    ]
    report = Report(api)
    session = requests.Session()
    session.headers["X-API-Key"] = api_key
    per_round = max(1, requests_per_api // (3 * len(operations)))
    modes = [(GenerationMode.POSITIVE, {}), (GenerationMode.POSITIVE, known)]
    modes.append((GenerationMode.NEGATIVE, {}))
    rounds = 0
    while report.sent < requests_per_api and rounds < 100:
        for operation in operations:
            for mode, fixed in modes:
                left = requests_per_api - report.sent
                strategy = operation.as_strategy(
                    generation_mode=mode, path_parameters=_known_for(operation, fixed)
                )
                if left > 0:
                    _run(
                        _label(operation), strategy, min(per_round, left), base_url, session, report
                    )
        rounds += 1
    return report


def _known_for(operation: Any, known: dict[str, str]) -> dict[str, str] | None:
    names = {p.name for p in operation.path_parameters}
    return {name: value for name, value in known.items() if name in names} or None


def _label(operation: Any) -> str:
    return f"{operation.method.upper()} {operation.path}"


def _run(
    label: str,
    strategy: Any,
    examples: int,
    base_url: str,
    session: requests.Session,
    report: Report,
) -> None:
    @hypothesis.settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=False,
        verbosity=hypothesis.Verbosity.quiet,
    )
    @hypothesis.given(case=strategy)
    def one(case: Any) -> None:
        try:
            response = case.call(base_url=base_url, session=session, timeout=30)
        except requests.RequestException as exc:
            report.record(label, None, [f"no answer\n{type(exc).__name__}: {exc}"])
            return
        problems: list[str] = []
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            problems = [f"{f.title}\n{_example(case, response, f)}" for f in group.exceptions]
        except Failure as failure:
            problems = [f"{failure.title}\n{_example(case, response, failure)}"]
        report.record(label, response.status_code, problems)

    # an operation without parameters or body has no invalid request to make
    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        one()


def _example(case: Any, response: requests.Response, failure: Failure) -> str:
    sent = response.request
    answer = f"{response.status_code} {response.text[:200]!r}"
    return f"{sent.method} {sent.url} -> {answer} ({failure.message[:200]})"
