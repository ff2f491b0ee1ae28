"""Local mode: a real Kafka broker, Redis, ClickHouse and the four services, each its own
process with the entry point and settings of its container, under a supervisor that
restarts a process that dies (``wellstream.supervisor``).

The embedded ClickHouse engine (``chdb://``, the default) allows one process per data
directory, so the writer and the gateway then share one (``wellstream serve``); with a
ClickHouse server (``http(s)://``) they run apart too. ``--scale validator=2`` runs two
validators in one consumer group; replica ``i`` (from 0) serves HTTP on its service's
port plus ``10 * i``.

Data is kept under ``.data/`` so a restart resumes where it stopped. Ctrl-C (or SIGTERM)
stops everything, the broker included.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import orjson

from wellstream import infra
from wellstream.embedded import ORDER
from wellstream.supervisor import Spec, Supervisor

DATA = Path(os.environ.get("WELLSTREAM_DATA_DIR", infra.ROOT / ".data")).resolve()
KAFKA_PORT = int(os.environ.get("WELLSTREAM_LOCAL_KAFKA_PORT", "9092"))
REDIS_PORT = int(os.environ.get("WELLSTREAM_LOCAL_REDIS_PORT", "6379"))
#: Each service's HTTP port, ``WELLSTREAM_LOCAL_<SERVICE>_PORT`` to change it.
PORTS = {
    name: int(os.environ.get(f"WELLSTREAM_LOCAL_{name.upper()}_PORT", port))
    for name, port in {"gateway": 8000, "ingestor": 8001, "validator": 8002, "writer": 8003}.items()
}
#: Replica ``i`` of a service listens on its port + ``REPLICA_PORT_STEP * i``.
REPLICA_PORT_STEP = 10
STATUS_FILE = DATA / "run" / "services.json"


@contextlib.contextmanager
def infrastructure() -> Iterator[None]:
    """Start Kafka and Redis unless ``WELLSTREAM_*`` already points at running ones."""
    with contextlib.ExitStack() as stack:
        if "WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS" not in os.environ:
            servers = stack.enter_context(infra.kafka(DATA / "kafka", KAFKA_PORT))
            os.environ["WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS"] = servers
        if "WELLSTREAM_REDIS_URL" not in os.environ:
            url = stack.enter_context(infra.redis(DATA / "redis", REDIS_PORT))
            os.environ["WELLSTREAM_REDIS_URL"] = url
        yield


def dev_api_key() -> str:
    """Local mode's key: taken from ``WELLSTREAM_API_KEYS`` when set, else generated once
    and kept in ``.data/dev-api-key`` (never a key written into the code)."""
    if configured := os.environ.get("WELLSTREAM_API_KEYS"):
        keys = orjson.loads(configured)
        return str(keys[0]["key"]) if keys else ""
    path = DATA / "dev-api-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created owner-only (0600) from the start: a key written world-readable and
        # chmod-ed after would be readable in between.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(24))
    path.chmod(0o600)  # a key file left by an older version was world-readable
    key = path.read_text().strip()
    scopes = ["read", "ingest", "admin"]
    os.environ["WELLSTREAM_API_KEYS"] = orjson.dumps(
        [{"name": "local", "key": key, "scopes": scopes}]
    ).decode()
    return key


def embedded_clickhouse() -> bool:
    return os.environ["WELLSTREAM_CLICKHOUSE_URL"].startswith("chdb://")


def check_scale(scale: Mapping[str, int]) -> None:
    """Raise ValueError for a scale local mode cannot run."""
    for name, count in scale.items():
        if name not in PORTS or count < 1:
            raise ValueError(f"--scale takes SERVICE=N, N >= 1, SERVICE one of {', '.join(ORDER)}")
        if count > 1 and name in ("writer", "gateway") and embedded_clickhouse():
            raise ValueError(
                f"the embedded ClickHouse allows one {name}: set WELLSTREAM_CLICKHOUSE_URL "
                "to a ClickHouse server to scale the writer or the gateway"
            )


def command(script: str, module: str) -> list[str]:
    """The console script ``script`` beside this interpreter (as in the image), else the
    same ``main`` through the interpreter."""
    path = Path(sys.executable).parent / script
    if path.exists():
        return [str(path)]
    return [sys.executable, "-c", f"import sys; from {module} import main; sys.exit(main())"]


def replicas(name: str, scale: Mapping[str, int]) -> list[tuple[str, int]]:
    """The replicas of service ``name``: its own name when alone, else ``name-1``, ..."""
    count = scale.get(name, 1)
    return [
        (name if count == 1 else f"{name}-{i + 1}", PORTS[name] + REPLICA_PORT_STEP * i)
        for i in range(count)
    ]


def dashboard(scale: Mapping[str, int]) -> dict[str, str]:
    """The gateway's dashboard settings: uploads to the first ingestor, the health of
    every replica on the overview."""
    urls = {
        name: f"http://127.0.0.1:{port}"
        for service in ORDER
        for name, port in replicas(service, scale)
    }
    return {
        "WELLSTREAM_INGESTOR_URL": urls[replicas("ingestor", scale)[0][0]],
        "WELLSTREAM_DASHBOARD_SERVICES": orjson.dumps(urls).decode(),
    }


def topology(scale: Mapping[str, int], environ: Mapping[str, str]) -> list[Spec]:
    """The processes to run, in start order: the writer first (it applies migrations)."""
    env = {"WELLSTREAM_HOST": "127.0.0.1", "WELLSTREAM_LOG_JSON": "false", **dashboard(scale)}
    env.update(environ)
    env["PYTHONUNBUFFERED"] = "1"
    specs: list[Spec] = []
    separate = list(ORDER)
    if env["WELLSTREAM_CLICKHOUSE_URL"].startswith("chdb://"):
        pair = [f"{name}={PORTS[name]}" for name in ("writer", "gateway")]
        argv = [*command("wellstream", "wellstream.cli"), "serve", *pair]
        ports = (PORTS["writer"], PORTS["gateway"])
        specs.append(Spec("writer+gateway", argv, env, ports))
        separate = ["validator", "ingestor"]
    spool = Path(env.get("WELLSTREAM_UPLOAD_DIR", DATA / "uploads"))
    for service in separate:
        for name, port in replicas(service, scale):
            own = {**env, "WELLSTREAM_PORT": str(port)}
            if service == "ingestor":  # a replica's spool is its own: it empties it at start
                own["WELLSTREAM_UPLOAD_DIR"] = str(spool / name)
            specs.append(
                Spec(name, command(f"wellstream-{service}", f"{service}.app"), own, (port,))
            )
    return specs


def _where(name: str, port: int) -> str:
    path = "docs" if name.startswith(("gateway", "ingestor")) else "health/ready"
    return f"  {name:<14} http://127.0.0.1:{port}/{path}"


def banner(key: str, specs: list[Spec]) -> str:
    lines = []
    for spec in specs:
        names = spec.name.split("+")
        lines += [_where(name, port) for name, port in zip(names, spec.ports, strict=True)]
    record = '[{"well_code": "7-MRL-123D-RJS", "production_period": "2024-01", '
    record += (
        '"oil_production_kbd": 1.25, "gas_production_mmcfd": 3.1, "water_production_kbd": 0.4}]'
    )
    listing = "\n".join(lines)
    return f"""
wellstream is running (data in {DATA})
  dashboard      http://127.0.0.1:{PORTS["gateway"]}/ (sign in with the API key below)
{listing}
  kafka          {os.environ["WELLSTREAM_KAFKA_BOOTSTRAP_SERVERS"]}
  redis          {os.environ["WELLSTREAM_REDIS_URL"]}
  clickhouse     {os.environ["WELLSTREAM_CLICKHOUSE_URL"]}
  API key        {key}   (all scopes; kept in {DATA / "dev-api-key"})
  processes      {STATUS_FILE} (pids; restarts are logged)

Send a record, then read it back:
  curl -s -X POST http://127.0.0.1:{PORTS["ingestor"]}/api/v1/records \\
    -H 'X-API-Key: {key}' -H 'Content-Type: application/json' \\
    -d '{record}'
  sleep 2; curl -s -H 'X-API-Key: {key}' \\
    'http://127.0.0.1:{PORTS["gateway"]}/api/v1/wells/7-MRL-123D-RJS/production?granularity=month'

Ctrl-C stops everything.
"""


async def supervise(specs: list[Spec], key: str) -> None:
    """Run ``specs`` until SIGINT or SIGTERM, then stop every process."""
    supervisor = Supervisor(specs, STATUS_FILE)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    starting = asyncio.create_task(supervisor.start())
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait([starting, stopped], return_when=asyncio.FIRST_COMPLETED)
    if starting.done() and not stop.is_set():
        if not starting.result():
            supervisor.say("not every service listens yet; see the log above")
        print(banner(key, specs), flush=True)
    await stopped
    starting.cancel()
    supervisor.say("stopping")
    await supervisor.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(scale: Mapping[str, int] | None = None) -> None:
    # SIGTERM (a supervisor, `timeout`) stops everything as Ctrl-C does, broker included:
    # while the infrastructure starts, both interrupt; then `supervise` handles both.
    signal.signal(signal.SIGTERM, _interrupt)
    scale = dict(scale or {})
    os.environ.setdefault("WELLSTREAM_CLICKHOUSE_URL", f"chdb://{DATA / 'clickhouse'}")
    check_scale(scale)
    with infrastructure():
        key = dev_api_key()
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(supervise(topology(scale, os.environ), key))
        # Stopping: a repeated Ctrl-C (``uv run`` forwards the terminal's, so one press
        # can arrive twice) must not cut the broker's and Redis' stop short.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
