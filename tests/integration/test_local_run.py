"""``wellstream run`` as a user runs it: each service its own process under the
supervisor, its own broker, Redis and data directory. A validator and an ingestor killed
with SIGKILL mid-stream are started again; every record accepted (202) is read back
exactly once, with exact sums, and a request cut by the kill and sent again doubles
nothing (records are keyed by their natural key; the read takes the latest version)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from wellstream.infra import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

KEY = "local-run-test-key-0123456789"
WELLS, DAYS, BATCH = 10, 300, 50
SERVICES = ("gateway", "ingestor", "validator", "writer")


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    data: Path
    log: Path
    ports: dict[str, int]

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def services(self) -> dict[str, Any]:
        status: dict[str, Any] = orjson.loads((self.data / "run" / "services.json").read_bytes())
        return dict(status["services"])

    def pid(self, name: str) -> int:
        return int(self.services()[name]["pid"])

    def wait_for(self, text: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.output():
            assert self.process.poll() is None, self.output()[-4000:]
            assert time.monotonic() < deadline, f"no {text!r}:\n{self.output()[-4000:]}"
            time.sleep(0.2)

    def restarted(self, name: str, old: int, seconds: float = 60) -> int:
        """The new pid of ``name`` once it was started again and listens."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            pid = self.pid(name)
            if pid != old and _listens(self.ports[name]):
                return pid
            time.sleep(0.2)
        raise AssertionError(f"{name} did not come back:\n{self.output()[-4000:]}")


def _listens(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1)
    except httpx.TransportError:
        return False
    return True


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data = tmp_path_factory.mktemp("local-run")
    ports = {name: free_port() for name in SERVICES}
    env = {k: v for k, v in os.environ.items() if not k.startswith("WELLSTREAM_")}
    env |= {f"WELLSTREAM_LOCAL_{name.upper()}_PORT": str(p) for name, p in ports.items()}
    env |= {
        "WELLSTREAM_DATA_DIR": str(data),
        "WELLSTREAM_LOCAL_KAFKA_PORT": str(free_port()),
        "WELLSTREAM_LOCAL_REDIS_PORT": str(free_port()),
        "WELLSTREAM_API_KEYS": orjson.dumps(
            [{"name": "t", "key": KEY, "scopes": ["read", "ingest", "admin"]}]
        ).decode(),
        "WELLSTREAM_CACHE_TTL_SECONDS": "0",  # every read of the gateway is a fresh one
    }
    log = data / "run.log"
    with log.open("wb") as out:
        command = [str(Path(sys.executable).parent / "wellstream"), "run"]
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    running = Stack(process, data, log, ports)
    try:
        running.wait_for("wellstream is running", 180)
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def records() -> list[dict[str, Any]]:
    """One record a day per well; oil in whole barrels (kbd x 1000 x 1 day)."""
    first = date(2023, 1, 1)
    return [
        {
            "well_code": f"LR-{well}",
            "production_period": (first + timedelta(days=day)).isoformat(),
            "data_source": "local-run",
            "oil_production_kbd": (day % 7 + 1) / 1000,
            "water_production_kbd": "0.002",
            "days_on_production": 1,
        }
        for well in range(WELLS)
        for day in range(DAYS)
    ]


@dataclass
class Poster:
    """Posts the records in batches, each until accepted (202): a connection cut by a
    kill, or a 503 while the ingestor starts, sends the same batch again."""

    url: str
    batches: list[bytes]
    posted: int = 0
    accepted: int = 0
    retries: int = 0
    errors: list[str] = field(default_factory=list)

    def run(self) -> None:
        with httpx.Client(timeout=30) as client:
            for body in self.batches:
                self.accepted += self._post(client, body)
                self.posted += 1
                time.sleep(0.2)  # the stream spans both kills and restarts

    def _post(self, client: httpx.Client, body: bytes) -> int:
        headers = {"X-API-Key": KEY, "Content-Type": "application/x-ndjson"}
        for _ in range(600):
            try:
                response = client.post(self.url, content=body, headers=headers)
            except httpx.TransportError as exc:
                self.errors.append(type(exc).__name__)
            else:
                if response.status_code == 202:
                    return int(response.json()["accepted"])
                self.errors.append(str(response.status_code))
            self.retries += 1
            time.sleep(0.1)
        raise AssertionError("the ingestor never accepted a batch")


def _stats(gateway: int) -> dict[str, Any]:
    response = httpx.get(
        f"http://127.0.0.1:{gateway}/api/v1/stats", headers={"X-API-Key": KEY}, timeout=10
    )
    return dict(response.json()) if response.status_code == 200 else {}


def _wait_records(stack: Stack, expected: int, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    count = 0
    while time.monotonic() < deadline:
        count = int(_stats(stack.ports["gateway"]).get("records", 0))
        if count >= expected:
            time.sleep(2)  # anything beyond ``expected`` (a double) would show by now
            return int(_stats(stack.ports["gateway"])["records"])
        time.sleep(0.5)
    return count


def _wait_until(condition: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_kill_9_of_the_validator_and_the_ingestor_loses_and_doubles_nothing(
    stack: Stack,
) -> None:
    sent = records()
    lines = [orjson.dumps(r) for r in sent]
    batches = [b"\n".join(lines[i : i + BATCH]) for i in range(0, len(lines), BATCH)]
    poster = Poster(f"http://127.0.0.1:{stack.ports['ingestor']}/api/v1/records", batches)
    thread = threading.Thread(target=poster.run)
    thread.start()

    _wait_until(lambda: poster.posted >= len(batches) // 3, 60)
    validator = stack.pid("validator")
    os.kill(validator, signal.SIGKILL)
    _wait_until(lambda: poster.posted >= 2 * len(batches) // 3, 60)
    ingestor = stack.pid("ingestor")
    os.kill(ingestor, signal.SIGKILL)
    stack.restarted("validator", validator)
    stack.restarted("ingestor", ingestor)
    thread.join(120)

    assert poster.posted == len(batches)
    assert poster.retries > 0  # batches sent while the ingestor was down went again
    assert poster.accepted == len(sent)
    assert _wait_records(stack, len(sent), 90) == len(sent)
    oil = water = 0.0
    for well in range(WELLS):
        response = httpx.get(
            f"http://127.0.0.1:{stack.ports['gateway']}/api/v1/wells/LR-{well}",
            headers={"X-API-Key": KEY},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        totals = response.json()["cumulative"]
        assert totals["days_on_production"] == pytest.approx(DAYS)
        oil += totals["oil_bbl"]
        water += totals["water_bbl"]
    assert oil == pytest.approx(WELLS * sum(day % 7 + 1 for day in range(DAYS)))
    assert water == pytest.approx(WELLS * DAYS * 2.0)

    output = stack.output()
    for name, pid in (("validator", validator), ("ingestor", ingestor)):
        assert f"{name}[{pid}] killed by SIGKILL; restarting in 1 s" in output
    services = stack.services()
    assert (services["validator"]["restarts"], services["ingestor"]["restarts"]) == (1, 1)
    assert services["writer+gateway"]["restarts"] == 0
    print(f"posted {len(sent)} records in {len(batches)} requests, {poster.retries} retries "
          f"({', '.join(sorted(set(poster.errors)))}); read {len(sent)}, oil {oil:g} bbl, "
          f"water {water:g} bbl")  # fmt: skip
