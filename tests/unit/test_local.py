"""Local mode: which processes run (each service its own, but the writer and the gateway
share the one that owns the embedded ClickHouse), on which ports, and the one process
serving several apps stops every server on one signal."""

import asyncio
import os
import signal
from pathlib import Path

import orjson
import pytest
from fastapi import FastAPI

from wellstream import embedded, local
from wellstream.infra import free_port

BASE = {"gateway": 8000, "ingestor": 8001, "validator": 8002, "writer": 8003}
ENV = {"WELLSTREAM_CLICKHOUSE_URL": "chdb:///tmp/ch", "WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS": "k"}
SERVER = {**ENV, "WELLSTREAM_CLICKHOUSE_URL": "http://clickhouse:8123/default"}


@pytest.fixture(autouse=True)
def ports(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(local, "PORTS", dict(BASE))
    monkeypatch.setattr(local, "DATA", tmp_path)


def test_embedded_engine_writer_and_gateway_share_the_first_process() -> None:
    specs = local.topology({}, ENV)

    assert [s.name for s in specs] == ["writer+gateway", "validator", "ingestor"]
    store = specs[0]
    assert store.argv[-3:] == ["serve", "writer=8003", "gateway=8000"]
    assert store.ports == (8003, 8000)
    assert specs[1].argv[0].endswith("wellstream-validator")
    assert specs[2].argv[0].endswith("wellstream-ingestor")


def test_a_clickhouse_server_runs_every_service_apart_writer_first() -> None:
    specs = local.topology({}, SERVER)

    assert [s.name for s in specs] == ["writer", "validator", "ingestor", "gateway"]
    assert [s.env["WELLSTREAM_PORT"] for s in specs] == ["8003", "8002", "8001", "8000"]
    assert all(s.argv[0].endswith(f"wellstream-{s.name}") for s in specs)


def test_replicas_differ_only_in_their_port_and_spool(tmp_path: Path) -> None:
    specs = {s.name: s for s in local.topology({"validator": 2, "ingestor": 2}, ENV)}

    one, two = specs["validator-1"], specs["validator-2"]
    assert (one.ports, two.ports) == ((8002,), (8012,))
    assert {**one.env, "WELLSTREAM_PORT": ""} == {**two.env, "WELLSTREAM_PORT": ""}
    assert one.argv == two.argv
    assert specs["ingestor-2"].ports == (8011,)
    spools = {specs[n].env["WELLSTREAM_UPLOAD_DIR"] for n in ("ingestor-1", "ingestor-2")}
    assert spools == {
        str(tmp_path / "uploads" / "ingestor-1"),
        str(tmp_path / "uploads" / "ingestor-2"),
    }


def test_the_services_log_plain_text_on_loopback_unless_told_otherwise() -> None:
    (store, *_) = local.topology({}, ENV)
    assert store.env["WELLSTREAM_HOST"] == "127.0.0.1"
    assert store.env["WELLSTREAM_LOG_JSON"] == "false"
    (store, *_) = local.topology({}, {**ENV, "WELLSTREAM_LOG_JSON": "true"})
    assert store.env["WELLSTREAM_LOG_JSON"] == "true"


@pytest.mark.parametrize(
    ("scale", "url", "problem"),
    [
        ({"writer": 2}, "chdb:///x", "embedded ClickHouse allows one writer"),
        ({"gateway": 2}, "chdb:///x", "embedded ClickHouse allows one gateway"),
        ({"validator": 0}, "chdb:///x", "SERVICE=N"),
        ({"kafka": 2}, "chdb:///x", "SERVICE=N"),
        ({"writer": 2, "gateway": 3}, "http://ch:8123", None),
        ({"validator": 3}, "chdb:///x", None),
    ],
)
def test_scale(
    scale: dict[str, int], url: str, problem: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WELLSTREAM_CLICKHOUSE_URL", url)
    if problem is None:
        local.check_scale(scale)
    else:
        with pytest.raises(ValueError, match=problem):
            local.check_scale(scale)


def test_serve_takes_service_port_pairs_in_start_order() -> None:
    assert list(embedded.parse_ports(["gateway=8000", "writer=8003"]).items()) == [
        ("writer", 8003),
        ("gateway", 8000),
    ]
    with pytest.raises(ValueError, match="SERVICE=PORT"):
        embedded.parse_ports(["kafka=9092"])


async def _listening(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


@pytest.mark.parametrize(
    "signals", [[signal.SIGINT], [signal.SIGINT, signal.SIGINT], [signal.SIGTERM]]
)
async def test_signals_stop_every_server(signals: list[signal.Signals]) -> None:
    """One Ctrl-C, or the same one delivered twice (``uv run`` forwards the terminal's),
    stops every server of the process gracefully."""
    ports = {name: free_port() for name in BASE}
    served = asyncio.create_task(embedded.serve({name: FastAPI() for name in ports}, ports))
    for _ in range(600):  # 30 s
        if all([await _listening(port) for port in ports.values()]):
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the servers did not start")

    for sig in signals:
        os.kill(os.getpid(), sig)
    await asyncio.wait_for(served, 30)

    assert not [port for port in ports.values() if await _listening(port)]


def test_the_gateway_is_told_where_the_dashboard_finds_the_other_services() -> None:
    specs = {s.name: s for s in local.topology({"ingestor": 2}, ENV)}
    env = specs["writer+gateway"].env
    assert env["WELLSTREAM_INGESTOR_URL"] == f"http://127.0.0.1:{local.PORTS['ingestor']}"
    services = orjson.loads(env["WELLSTREAM_DASHBOARD_SERVICES"])
    assert sorted(services) == ["gateway", "ingestor-1", "ingestor-2", "validator", "writer"]
    assert services["ingestor-2"].endswith(str(local.PORTS["ingestor"] + local.REPLICA_PORT_STEP))
