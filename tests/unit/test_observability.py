"""deploy/observability: the alert rules pass promtool (`check rules`, and `test rules`
on two alerts); every PromQL expression of the rules and of the Grafana dashboard parses
and names only metrics the services register (or kube-state-metrics' few); the
consumers export their lag and batch latency."""

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from aiokafka import ConsumerRecord, TopicPartition
from prometheus_client import REGISTRY

import gateway.metrics
import ingestor.metrics
import runtime.metrics
import validator.handlers
import writer.metrics
from tests.unit.writer.test_consumer import Consumer, Work, loop_over, records

REPO = Path(__file__).resolve().parents[2]
OBSERVABILITY = REPO / "deploy" / "observability"
RULES = OBSERVABILITY / "alerts.yaml"
DASHBOARD = OBSERVABILITY / "grafana-pipeline.json"
PROMTOOL = REPO / ".cache" / "bin" / "promtool"
METRIC_MODULES = (
    runtime.metrics,
    ingestor.metrics,
    validator.handlers,
    writer.metrics,
    gateway.metrics,
)
#: Series of kube-state-metrics (pods' readiness), the one source outside the services.
EXTERNAL = frozenset({"kube_deployment_status_replicas_available", "kube_deployment_spec_replicas"})
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "gauge": ("",),
    "info": ("_info",),
}


def exported() -> set[str]:
    """Every series name the services' registry exposes, suffixes included."""
    assert all(module.__name__ for module in METRIC_MODULES)  # imported: registered
    names: set[str] = set()
    for family in REGISTRY.collect():
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
    return names


def rule_expressions() -> Iterator[tuple[str, str]]:
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            yield rule.get("alert") or rule["record"], rule["expr"]


def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in items:
        yield panel
        yield from panels(panel.get("panels", []))


def dashboard_expressions() -> Iterator[tuple[str, str]]:
    for panel in panels(json.loads(DASHBOARD.read_text())["panels"]):
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable in ("$__rate_interval", "$__interval", "$__range"):
                expr = expr.replace(variable, "5m")  # Grafana's, before parsing
            yield f"{panel['title']} {target['refId']}", expr


def selected(expr: str) -> list[str | None]:
    """The metric names of every selector of ``expr`` (None: a selector by labels only)."""
    names: list[str | None] = []

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            names.append(node.name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def unknown(expr: str) -> set[str | None]:
    known = exported() | EXTERNAL
    return {name for name in selected(expr) if name not in known}


EXPRESSIONS = [*rule_expressions(), *dashboard_expressions()]


@pytest.mark.parametrize(("where", "expr"), EXPRESSIONS, ids=[w for w, _ in EXPRESSIONS])
def test_each_expression_parses_and_names_only_exported_metrics(where: str, expr: str) -> None:
    assert selected(expr), where
    assert unknown(expr) == set(), where


def test_the_check_catches_a_metric_nobody_exports() -> None:
    assert unknown("sum(rate(wellstream_writer_rows_total[5m])) / on() up") == {
        "wellstream_writer_rows_total",
        "up",
    }
    assert unknown('rate({__name__="wellstream_ingestor_records_total"}[5m])') == {None}
    with pytest.raises(ValueError, match="unclosed left parenthesis"):
        promql_parser.parse("sum(rate(wellstream_ingestor_records_total[5m])")


def test_the_dashboard_covers_the_pipeline() -> None:
    used = {name for _, expr in dashboard_expressions() for name in selected(expr)}
    assert {
        "wellstream_ingestor_records_total",
        "wellstream_validator_records_total",
        "wellstream_writer_rows_inserted_total",
        "wellstream_validator_consumer_lag",
        "wellstream_writer_consumer_lag",
        "wellstream_validator_rejections_total",
        "wellstream_writer_dead_letters_total",
        "wellstream_writer_insert_seconds_bucket",
        "wellstream_http_requests_total",
        "wellstream_http_request_seconds_bucket",
        "wellstream_gateway_cache_total",
    } <= used
    ids = [panel["id"] for panel in panels(json.loads(DASHBOARD.read_text())["panels"])]
    assert len(ids) == len(set(ids))


def test_the_rules_alert_on_lag_dead_letters_inserts_readiness_and_latency() -> None:
    rules = dict(rule_expressions())
    assert {
        "WellstreamValidatorLagGrowing",
        "WellstreamWriterLagGrowing",
        "WellstreamDeadLetterRateHigh",
        "WellstreamInsertFailures",
        "WellstreamNotReady",
        "WellstreamGatewayLatencyHigh",
    } <= set(rules)
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in {"warning", "critical"}
            assert rule["annotations"]["summary"]


def promtool(*args: str) -> str:
    if not PROMTOOL.exists():
        pytest.skip("promtool is not built: `make install` (scripts/promtool.sh) builds it")
    done = subprocess.run(
        [str(PROMTOOL), *args], cwd=OBSERVABILITY, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_promtool_checks_the_rules() -> None:
    assert "SUCCESS" in promtool("check", "rules", RULES.name)


def test_promtool_unit_tests_of_the_alerts_pass() -> None:
    assert "SUCCESS" in promtool("test", "rules", "alerts.test.yaml")


def lag(metric: str, topic: str, partition: int) -> float | None:
    return REGISTRY.get_sample_value(metric, {"topic": topic, "partition": str(partition)})


class Ends:
    """The validator's consumer as its lag reading sees it."""

    def highwater(self, partition: TopicPartition) -> int | None:
        return {0: 100, 1: None}.get(partition.partition, 0)


def raw(partition: int, offset: int) -> "ConsumerRecord[Any, Any]":
    return ConsumerRecord("lagged", partition, offset, 0, 0, None, b"{}", None, 0, 2, ())


def test_the_validator_records_its_lag_behind_each_partitions_end() -> None:
    validator.handlers.record_lag(Ends(), [raw(0, 40), raw(1, 7), raw(0, 41)])
    assert lag("wellstream_validator_consumer_lag", "lagged", 0) == 58
    assert lag("wellstream_validator_consumer_lag", "lagged", 1) is None  # end unknown yet
    validator.handlers.record_lag(None, [raw(0, 99)])  # not started: nothing to read


def test_a_failing_lag_reading_costs_the_validator_no_batch() -> None:
    class Broken:
        def highwater(self, partition: TopicPartition) -> int:
            raise RuntimeError("partition revoked")

    validator.handlers.record_lag(Broken(), [raw(2, 1)])
    assert lag("wellstream_validator_consumer_lag", "lagged", 2) is None


async def test_the_writer_times_each_batch_it_stores_and_commits() -> None:
    def count() -> float:
        sample = REGISTRY.get_sample_value("wellstream_writer_batch_seconds_count", {"topic": "t"})
        return sample or 0.0

    before = count()
    source = Consumer([records(0, range(0, 3)), records(0, range(3, 6))], {0})
    await loop_over(source, Work()).batches(until_idle=True)
    assert count() == before + 2
