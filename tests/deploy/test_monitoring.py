"""deploy/k8s/components/monitoring: the ServiceMonitor and PrometheusRule against the Prometheus Operator's CRD
schemas, every PromQL expression (alerts and the Grafana dashboard) parsed and checked against the metrics the
services define or deploy/README.md documents, and the dashboard JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import promql_parser
import pytest
from prometheus_client.metrics import MetricWrapperBase

from shared import metrics
from tests.deploy.support import (
    DEPLOY,
    K8S,
    MONITORING_API,
    SERVICES,
    by_name,
    crd_errors,
    deep_copy,
    of_kind,
    rendered,
    selects,
)

OVERLAYS_WITH_MONITORING = ("dev", "prod")
DASHBOARD = K8S / "components" / "monitoring" / "grafana" / "creditflow.json"
README = (DEPLOY / "README.md").read_text(encoding="utf-8")
# Labels Prometheus adds to every scraped series (ServiceMonitor target labels); "service" stays the metric's own
# because the endpoint honours labels.
TARGET_LABELS = {"job", "instance", "pod", "namespace", "endpoint", "container"}
# Grafana variables, replaced by sample values before parsing.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$service": "credit", "${datasource}": "prometheus"}


@dataclass(frozen=True)
class MetricSpec:
    series: frozenset[str]  # the names a query may use (counter _total, histogram _bucket/_sum/_count)
    labels: frozenset[str]


def code_metrics() -> dict[str, MetricSpec]:
    """The metrics shared/metrics.py defines, by every series name a query may use."""
    found: dict[str, MetricSpec] = {}
    for value in vars(metrics).values():
        if not isinstance(value, MetricWrapperBase):
            continue
        (family,) = value.describe()
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}.get(family.type, [""])
        names = frozenset(family.name + suffix for suffix in suffixes)
        for name in names:
            # A histogram's buckets carry "le" besides the metric's labels.
            labels = set(value._labelnames) | ({"le"} if name.endswith("_bucket") else set())
            found[name] = MetricSpec(names, frozenset(labels))
    return found


METRICS_ROW = re.compile(r"^ *\| `(creditflow_[a-z0-9_]+)` \| (counter|gauge|histogram) \| ([^|]*) \|", re.MULTILINE)


def documented_metrics() -> dict[str, MetricSpec]:
    """The metrics table of deploy/README.md ("Metrics and logs"): name, type, labels."""
    section = README.split("## Metrics and logs")[1].split("\n## ")[0]
    found: dict[str, MetricSpec] = {}
    for name, kind, labels in METRICS_ROW.findall(section):
        names = {name} if kind != "histogram" else {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        for series in names:
            extra = {"le"} if series.endswith("_bucket") else set()
            found[series] = MetricSpec(frozenset(names), frozenset(set(re.findall(r"`(\w+)`", labels)) | extra))
    return found


def known_metrics() -> dict[str, MetricSpec]:
    """What a query may use: the code's metrics, and the documented ones another change implements."""
    return {**documented_metrics(), **code_metrics()}


def walk(node: Any) -> Iterator[Any]:
    yield node
    for attribute in ("lhs", "rhs", "expr", "param", "vector_selector"):
        child = getattr(node, attribute, None)
        if child is not None and not isinstance(child, (str, int, float)):
            yield from walk(child)
    for child in getattr(node, "args", None) or []:
        yield from walk(child)


def query_problems(expr: str) -> list[str]:
    """Why a PromQL expression would not work against creditflow's metrics (empty when it would)."""
    try:
        tree = promql_parser.parse(expr)
    except Exception as error:  # the parser's own error type
        return [f"does not parse: {error}"]
    known = known_metrics()
    problems = []
    selectors = [node for node in walk(tree) if isinstance(node, promql_parser.VectorSelector)]
    if not selectors:
        problems.append("selects no metric")
    for selector in selectors:
        name = selector.name
        if name == "up":
            continue
        if name not in known:
            problems.append(f"{name} is neither defined in shared/metrics.py nor documented in deploy/README.md")
            continue
        for matcher in selector.matchers.matchers:
            if matcher.name not in known[name].labels | TARGET_LABELS:
                problems.append(f"{name} has no label {matcher.name}")
    for node in walk(tree):
        modifier = getattr(node, "modifier", None)
        if isinstance(node, promql_parser.AggregateExpr) and modifier is not None:
            used = {s.name for s in selectors if s.name in known}
            available = set().union(*(known[name].labels for name in used)) | TARGET_LABELS if used else set()
            missing = set(modifier.labels) - available
            if used and missing:
                problems.append(f"aggregates by labels no selected metric has: {sorted(missing)}")
    return problems


def rule_exprs(overlay: str = "prod") -> dict[str, str]:
    (rule,) = of_kind(rendered(overlay), "PrometheusRule")
    return {item["alert"]: item["expr"] for group in rule["spec"]["groups"] for item in group["rules"]}


def dashboard() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return document


def dashboard_exprs() -> dict[str, str]:
    exprs = {}
    for panel in dashboard()["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            exprs[f"{panel['title']}/{target['refId']}"] = expr
    return exprs


# ---- schemas -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS_WITH_MONITORING)
def test_service_monitor_and_rules_match_the_prometheus_operator_schemas(overlay: str) -> None:
    documents = [d for d in rendered(overlay) if d["kind"] in ("ServiceMonitor", "PrometheusRule")]
    assert sorted(d["kind"] for d in documents) == ["PrometheusRule", "ServiceMonitor"]
    for document in documents:
        assert document["apiVersion"] == MONITORING_API
        assert crd_errors(document) == [], document["kind"]


def monitor(documents: list[dict[str, Any]]) -> dict[str, Any]:
    return of_kind(documents, "ServiceMonitor")[0]


def rules(documents: list[dict[str, Any]]) -> dict[str, Any]:
    return of_kind(documents, "PrometheusRule")[0]


BREAKAGES: list[tuple[str, Callable[[list[dict[str, Any]]], object]]] = [
    ("monitor-without-selector", lambda d: monitor(d)["spec"].pop("selector")),
    ("monitor-interval-not-a-duration", lambda d: monitor(d)["spec"]["endpoints"][0].update(interval="often")),
    ("monitor-unknown-scheme", lambda d: monitor(d)["spec"]["endpoints"][0].update(scheme="ftp")),
    ("monitor-misspelt-field", lambda d: monitor(d)["spec"]["endpoints"][0].update(honourLabels=True)),
    ("rule-without-expr", lambda d: rules(d)["spec"]["groups"][0]["rules"][0].pop("expr")),
    ("rule-for-not-a-duration", lambda d: rules(d)["spec"]["groups"][0]["rules"][0].update({"for": "5 minutes"})),
    ("rule-group-without-name", lambda d: rules(d)["spec"]["groups"][0].pop("name")),
]


@pytest.mark.parametrize("breakage", [b[1] for b in BREAKAGES], ids=[b[0] for b in BREAKAGES])
def test_monitoring_check_fails_a_broken_resource(breakage: Callable[[list[dict[str, Any]]], object]) -> None:
    documents = deep_copy(rendered("prod"))
    breakage(documents)
    broken = [d for d in documents if d["kind"] in ("ServiceMonitor", "PrometheusRule")]
    assert any(crd_errors(document) for document in broken)


@pytest.mark.parametrize("overlay", OVERLAYS_WITH_MONITORING)
def test_the_service_monitor_scrapes_every_service_on_its_metrics_port(overlay: str) -> None:
    documents = rendered(overlay)
    service_monitor = monitor(documents)
    selected = [
        s
        for s in of_kind(documents, "Service")
        if selects(service_monitor["spec"]["selector"], s["metadata"]["labels"])
    ]
    assert sorted(s["metadata"]["name"] for s in selected) == sorted(f"creditflow-{s}" for s in SERVICES)
    (endpoint,) = service_monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics" and endpoint["honorLabels"] is True
    for service in selected:
        assert endpoint["port"] in [port["name"] for port in service["spec"]["ports"]]


# ---- PromQL --------------------------------------------------------------------------------------------------

REQUIRED_ALERTS = {
    "CreditflowOutboxStuck": "creditflow_outbox_oldest_unpublished_age_seconds",
    "CreditflowConsumerLagGrowing": "creditflow_consumer_lag",
    "CreditflowDeadLetters": "creditflow_dlq_messages",
    "CreditflowHighServerErrorRate": "creditflow_http_requests_total",
}


def test_the_alerts_cover_outbox_age_lag_dead_letters_and_5xx() -> None:
    exprs = rule_exprs()
    for alert, metric in REQUIRED_ALERTS.items():
        assert re.search(rf"\b{metric}\b", exprs[alert]), alert
    assert 'status=~"5.."' in exprs["CreditflowHighServerErrorRate"]


@pytest.mark.parametrize("alert", sorted(rule_exprs()))
def test_every_alert_expression_parses_and_uses_known_metrics(alert: str) -> None:
    assert query_problems(rule_exprs()[alert]) == []


def test_every_alert_has_a_severity_summary_and_a_for_clause() -> None:
    (rule,) = of_kind(rendered("prod"), "PrometheusRule")
    for group in rule["spec"]["groups"]:
        for item in group["rules"]:
            assert item["labels"]["severity"] in ("warning", "critical"), item["alert"]
            assert item["annotations"]["summary"] and item["annotations"]["description"]
            assert re.fullmatch(r"\d+[smh]", item["for"])


def test_the_metrics_the_alerts_need_are_documented_with_their_labels() -> None:
    documented = documented_metrics()
    assert documented["creditflow_outbox_oldest_unpublished_age_seconds"].labels >= {"service"}
    assert documented["creditflow_consumer_lag"].labels >= {"topic", "partition", "group"}
    assert "creditflow_dlq_messages" in documented
    assert documented["creditflow_http_requests_total"].labels == {"service", "method", "route", "status"}


def test_documented_metrics_that_the_code_defines_agree_with_it() -> None:
    code = code_metrics()
    for name, spec in documented_metrics().items():
        if name in code:
            assert spec.labels == code[name].labels, name


def test_every_code_metric_is_documented() -> None:
    documented = documented_metrics()
    assert set(code_metrics()) <= set(documented)


QUERY_BREAKAGES = [
    pytest.param("max by (service) (creditflow_outbox_oldest_unpublished_age_second) > 300", id="misspelt-metric"),
    pytest.param("sum(rate(creditflow_http_requests_total{code=~'5..'}[5m]))", id="unknown-label"),
    pytest.param("sum by (tenant) (creditflow_consumer_lag)", id="grouping-by-unknown-label"),
    pytest.param("max by (service) (creditflow_dlq_messages > 0", id="unbalanced"),
    pytest.param("rate(creditflow_http_requests_total[5 minutes])", id="bad-range"),
    pytest.param("vector(1)", id="selects-nothing"),
]


@pytest.mark.parametrize("expr", QUERY_BREAKAGES)
def test_the_query_check_fails_a_broken_expression(expr: str) -> None:
    assert query_problems(expr) != []


# ---- Grafana ---------------------------------------------------------------------------------------------------


def test_the_dashboard_is_in_a_configmap_grafana_loads() -> None:
    for overlay in OVERLAYS_WITH_MONITORING:
        config_map = by_name(rendered(overlay), "ConfigMap")["creditflow-grafana-dashboard"]
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert json.loads(config_map["data"]["creditflow.json"]) == dashboard()


def test_the_dashboard_is_a_grafana_dashboard() -> None:
    document = dashboard()
    assert document["uid"] and document["title"] and isinstance(document["schemaVersion"], int)
    ids = [panel["id"] for panel in document["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    variables = {variable["name"] for variable in document["templating"]["list"]}
    for panel in document["panels"]:
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24 and grid["h"] > 0
        for target in panel.get("targets", []):
            assert target["refId"] and target["expr"]
            for variable in re.findall(r"\$\{?(\w+)\}?", json.dumps(target)):
                assert variable in variables or variable.startswith("__"), f"{panel['title']}: ${variable}"


@pytest.mark.parametrize("target", sorted(dashboard_exprs()))
def test_every_dashboard_query_parses_and_uses_known_metrics(target: str) -> None:
    assert query_problems(dashboard_exprs()[target]) == []


def test_the_dashboard_shows_what_the_alerts_watch() -> None:
    text = " ".join(dashboard_exprs().values())
    for metric in REQUIRED_ALERTS.values():
        assert metric in text, metric
    assert 'status=~"5.."' in text
