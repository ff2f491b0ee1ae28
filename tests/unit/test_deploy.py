"""The Kubernetes manifests, offline: every object of the kustomization valid against the
Kubernetes 1.30 schemas (strict: no unknown field), the KEDA ScaledObjects against the
CRD of KEDA 2.16.1 (vendored in tests/data), and what scaling needs of them: each
consumer scales on the lag of the group and topic its code consumes, never past the
partitions its topics are created with; each service has a disruption budget and a grace
period above its stop time. The production image installs neither chDB nor the dev set."""

import inspect
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import jsonschema
import kubernetes_validate
import pytest
import yaml
from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker

from runtime.clickhouse import connect
from runtime.kafka import Producer
from runtime.settings import load
from validator import handlers as validator_handlers
from validator.config import ValidatorSettings
from writer import handlers as writer_handlers
from writer.config import WriterSettings

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
KEDA_CRD = REPO / "tests" / "data" / "keda.sh_scaledobjects.yaml"
KUBERNETES_VERSION = "1.30"
Obj = dict[str, Any]


def resources() -> list[Path]:
    """The files of the kustomization, in its order (what `kubectl apply -k` renders: no
    patches, generators or overlays are used)."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert set(kustomization) <= {"apiVersion", "kind", "resources"}, "render it first"
    return [K8S / name for name in kustomization["resources"]]


def objects() -> list[Obj]:
    return [obj for path in resources() for obj in yaml.safe_load_all(path.read_text()) if obj]


def by_kind(kind: str) -> dict[str, Obj]:
    return {o["metadata"]["name"]: o for o in objects() if o["kind"] == kind}


def config() -> dict[str, str]:
    return cast(dict[str, str], by_kind("ConfigMap")["wellstream"]["data"])


def _strict(schema: Any) -> Any:
    """The CRD's schema refusing unknown fields, as the API server's strict field
    validation does (a CRD's schema leaves ``additionalProperties`` open)."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: _strict(value) for key, value in schema.items()}
    open_ = "additionalProperties" in strict or strict.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in strict and not open_:
        strict["additionalProperties"] = False
    return strict


def keda_schema(api_version: str) -> Obj:
    crd = yaml.safe_load(KEDA_CRD.read_text())
    for version in crd["spec"]["versions"]:
        if f"{crd['spec']['group']}/{version['name']}" == api_version:
            return cast(Obj, _strict(version["schema"]["openAPIV3Schema"]))
    raise AssertionError(f"no schema for {api_version} in {KEDA_CRD.name}")


def validate(obj: Obj) -> None:
    if obj["apiVersion"].startswith("keda.sh/"):
        jsonschema.validate(obj, keda_schema(obj["apiVersion"]))
    else:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_every_manifest_file_is_in_the_kustomization() -> None:
    files = {p for p in K8S.glob("*.y*ml") if p.name != "kustomization.yaml"}
    assert files == set(resources())


@pytest.mark.parametrize(
    "obj", objects(), ids=lambda o: f"{o['kind']}/{o['metadata']['name']}".lower()
)
def test_each_object_is_valid_against_its_schema(obj: Obj) -> None:
    validate(obj)


def test_the_vendored_keda_crd_is_a_valid_crd() -> None:
    kubernetes_validate.validate(yaml.safe_load(KEDA_CRD.read_text()), KUBERNETES_VERSION, True)


@pytest.mark.parametrize(
    "broken",
    [
        {"minReplicas": 1},  # the HPA's spelling, not KEDA's
        {"maxReplicaCount": "12"},
        {"triggers": [{"type": "kafka", "metadata": {"lagThreshold": 100}}]},  # not a string
    ],
)
def test_the_keda_check_catches_a_broken_scaled_object(broken: Obj) -> None:
    obj = by_kind("ScaledObject")["wellstream-validator"]
    with pytest.raises(jsonschema.ValidationError):
        validate({**obj, "spec": {**obj["spec"], **broken}})


def test_an_unknown_field_fails_the_kubernetes_check() -> None:
    deployment = by_kind("Deployment")["wellstream-gateway"]
    with pytest.raises(kubernetes_validate.ValidationError):
        validate({**deployment, "spec": {**deployment["spec"], "replica": 2}})


def triggers(name: str) -> list[dict[str, str]]:
    scaled = by_kind("ScaledObject")[name]
    assert scaled["spec"]["scaleTargetRef"]["name"] in by_kind("Deployment")
    assert all(t["type"] == "kafka" for t in scaled["spec"]["triggers"])
    return [t["metadata"] for t in scaled["spec"]["triggers"]]


class Subscriptions:
    """A broker that records what the validator subscribes to."""

    def __init__(self) -> None:
        self.groups: dict[str, str] = {}

    def subscriber(self, topic: str, **options: Any) -> Any:
        self.groups[topic] = options["group_id"]
        return lambda handler: handler


@pytest.fixture
def deployed_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ConfigMap's settings in the environment (secrets files aside)."""
    for name, value in config().items():
        if not name.endswith("_FILE"):
            monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("deployed_env")
def test_the_validator_scales_on_the_lag_of_the_group_it_consumes_in() -> None:
    settings = load(ValidatorSettings)
    broker = Subscriptions()
    validator_handlers.register(
        cast(KafkaBroker, broker), cast(Any, None), settings, cast(Any, None), None
    )
    [trigger] = triggers("wellstream-validator")
    assert {trigger["topic"]: trigger["consumerGroup"]} == broker.groups
    assert trigger["consumerGroup"] == "wellstream.validator"


@pytest.mark.usefixtures("deployed_env")
async def test_the_writer_scales_on_the_lag_of_both_its_groups() -> None:
    settings = load(WriterSettings)
    loops = writer_handlers.loops(settings, cast(Any, None), cast(Any, None))
    consumers = [cast(AIOKafkaConsumer, loop.source) for loop in loops]
    consumed = {topic: c._group_id for c in consumers for topic in c.subscription()}
    assert {t["topic"]: t["consumerGroup"] for t in triggers("wellstream-writer")} == consumed
    assert consumed[settings.topic_normalized] == writer_handlers.consumer_group(settings)


def test_scaling_reads_the_brokers_from_the_configmap() -> None:
    for name in ("wellstream-validator", "wellstream-writer"):
        container = by_kind("Deployment")[name]["spec"]["template"]["spec"]["containers"][0]
        assert {"configMapRef": {"name": "wellstream"}} in container["envFrom"]
        for trigger in triggers(name):
            assert "bootstrapServers" not in trigger
            assert trigger["bootstrapServersFromEnv"] in config()
            assert int(trigger["lagThreshold"]) > 0


def test_topics_have_a_partition_for_every_replica_a_consumer_may_scale_to() -> None:
    partitions = int(config()["WELLSTREAM_TOPIC_PARTITIONS"])
    scaled = by_kind("ScaledObject")
    assert set(scaled) == {"wellstream-validator", "wellstream-writer"}
    for obj in scaled.values():
        assert obj["spec"]["minReplicaCount"] <= obj["spec"]["maxReplicaCount"] <= partitions


def test_consumers_scale_on_lag_and_http_services_on_cpu() -> None:
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in by_kind("HorizontalPodAutoscaler").values()
    }
    assert set(hpas) == {"wellstream-ingestor", "wellstream-gateway"}  # KEDA owns the others'
    for hpa in hpas.values():
        assert hpa["apiVersion"] == "autoscaling/v2"
        [metric] = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"


def test_every_service_has_a_disruption_budget_that_leaves_it_running() -> None:
    budgets = {
        b["spec"]["selector"]["matchLabels"]["app"]: b
        for b in by_kind("PodDisruptionBudget").values()
    }
    for name, deployment in by_kind("Deployment").items():
        assert deployment["spec"]["selector"]["matchLabels"] == {"app": name}
        assert budgets[name]["spec"] == {
            "maxUnavailable": 1,
            "selector": {"matchLabels": {"app": name}},
        }
        assert deployment["spec"]["replicas"] >= 2


def stop_seconds() -> dict[str, float]:
    """The longest a consumer takes to stop on SIGTERM (uvicorn's lifespan shutdown):
    the validator's broker waits up to its graceful_timeout for the batch in flight, then
    both flush their producer for up to ``Producer.stop``'s bound; 10 s more for leaving
    the group and closing clients."""
    graceful = inspect.signature(KafkaBroker.__init__).parameters["graceful_timeout"].default
    flush = inspect.signature(Producer.stop).parameters["within"].default
    return {"wellstream-validator": graceful + flush + 10, "wellstream-writer": flush + 10}


def test_the_grace_period_outlasts_each_consumers_stop() -> None:
    deployments = by_kind("Deployment")
    for name, seconds in stop_seconds().items():
        assert (
            deployments[name]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > seconds
        )


def uv() -> str:
    found = shutil.which("uv") or str(REPO / ".cache" / "bootstrap" / "bin" / "uv")
    assert os.access(found, os.X_OK), "uv not found"
    return found


def production_packages() -> Iterator[str]:
    """The packages of `uv sync --frozen --no-dev` (the Dockerfile's), from the lock."""
    exported = subprocess.run(
        [uv(), "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-workspace"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in exported.splitlines():
        if match := re.match(r"([A-Za-z0-9_.-]+)==", line):
            yield match.group(1).lower()


def test_every_production_dependency_installs_from_a_wheel_so_no_compiler_is_needed() -> None:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    # A package may be locked at several versions, one for each range of Python versions
    # (numpy, scipy): the image's Python takes its wheel from one of them.
    wheels: dict[str, list[str]] = {}
    for p in lock["package"]:
        wheels.setdefault(p["name"], []).extend(
            w["url"].rsplit("/", 1)[1] for w in p.get("wheels", [])
        )
    tags = re.compile(
        r"-(py2\.py3|py3|cp311|cp3\d+)-(none|cp311|abi3)-(any|manylinux[^-]*x86_64[^-]*)\.whl$"
    )
    for package in production_packages():
        assert any(tags.search(name) for name in wheels[package]), package


def test_the_production_image_carries_neither_the_embedded_engine_nor_dev_tools() -> None:
    packages = set(production_packages())
    assert {"clickhouse-connect", "aiokafka", "uvicorn"} <= packages
    assert not packages & {"chdb", "pytest", "mypy", "ruff", "kubernetes-validate"}
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "uv sync --frozen --no-dev" in dockerfile
    assert "--extra" not in dockerfile
    final = dockerfile.rsplit("\nFROM ", 1)[1]
    assert not re.search(r"apt-get|gcc|build-essential|pip install", final)


def test_a_chdb_url_without_the_embedded_engine_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "chdb", None)  # as in the production image
    with pytest.raises(RuntimeError, match=r"wellstream-runtime\[embedded\]"):
        connect("chdb:///tmp/nowhere")
