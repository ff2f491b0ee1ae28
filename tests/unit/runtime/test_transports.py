"""ClickHouse over https and Redis over TLS verify the server against the CA file the
settings name (there is no ClickHouse server here: the client's arguments are checked)."""

from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest
from redis.asyncio.connection import SSLConnection

from runtime import clickhouse, redis


def test_clickhouse_over_https_verifies_against_the_ca_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(clickhouse_connect, "get_client", lambda **kw: calls.append(kw))
    ca = tmp_path / "ca.pem"
    clickhouse.connect("https://svc:p%40ss@ch.example.com/prod", ca_file=ca)
    clickhouse.connect("http://ch:8123/default")
    secure, plain = calls
    assert secure["host"] == "ch.example.com"
    assert (secure["port"], secure["secure"], secure["verify"]) == (8443, True, True)
    assert secure["ca_cert"] == str(ca)
    assert (secure["username"], secure["password"], secure["database"]) == ("svc", "p@ss", "prod")
    assert (plain["secure"], plain["ca_cert"]) == (False, None)


def test_rediss_verifies_against_the_ca_file(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    client = redis.connect("rediss://app:pw@r.example.com:6380/0", ca_file=ca)
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["ssl_ca_certs"] == str(ca)
    assert client.connection_pool.connection_class is SSLConnection
    assert (kwargs["username"], kwargs["password"]) == ("app", "pw")


def test_a_ca_file_is_ignored_without_tls(tmp_path: Path) -> None:
    client = redis.connect("redis://localhost:6379/0", ca_file=tmp_path / "ca.pem")
    assert "ssl_ca_certs" not in client.connection_pool.connection_kwargs
