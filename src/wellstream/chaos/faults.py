"""Fault injection at the ClickHouse client adapter, for the fault suite.

``FaultyClient`` wraps a clickhouse-connect client and fails every call, the way an
unreachable server does, while an ``Outage`` is on; it can also hold every insert for a
while, the way a loaded server does (``insert_delay``). The adapter above it
(``runtime.clickhouse.ClickHouse``) sees the same errors as in production, so its
retries, and the consumer's rewind once they run out, are what gets tested.
"""

import time
from typing import Any, cast

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import OperationalError


class Outage:
    def __init__(self) -> None:
        self._until = 0.0
        self.failures = 0

    def start(self, seconds: float) -> None:
        self._until = time.monotonic() + seconds

    @property
    def active(self) -> bool:
        return time.monotonic() < self._until

    def check(self) -> None:
        if self.active:
            self.failures += 1
            raise OperationalError("injected fault: ClickHouse unreachable")


class FaultyClient:
    """Delegates to ``client``; inserts, queries and commands fail during an outage."""

    def __init__(self, client: Client, outage: Outage, insert_delay: float = 0.0) -> None:
        self._client = client
        self._outage = outage
        self._insert_delay = insert_delay

    def _before_insert(self) -> None:
        self._outage.check()
        # The adapter runs the sync client in a worker thread: this holds that thread.
        time.sleep(self._insert_delay)

    def insert(self, *args: Any, **kwargs: Any) -> Any:
        self._before_insert()
        return self._client.insert(*args, **kwargs)

    def raw_insert(self, *args: Any, **kwargs: Any) -> Any:
        self._before_insert()
        return self._client.raw_insert(*args, **kwargs)

    def query(self, *args: Any, **kwargs: Any) -> Any:
        self._outage.check()
        return self._client.query(*args, **kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        self._outage.check()
        return self._client.command(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def faulty(client: Client, outage: Outage, insert_delay: float = 0.0) -> Client:
    """``client`` behind the fault switch, typed as the client it stands in for."""
    return cast(Client, FaultyClient(client, outage, insert_delay))
