"""The monitoring files as data: alert rules, dashboard queries, a local Prometheus."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy" / "monitoring"
RULES = MONITORING / "prometheus-rules.yaml"
RULE_TESTS = MONITORING / "alerts.test.yaml"
SERVICES_DASHBOARD = MONITORING / "dashboards" / "services.json"
LOGS_DASHBOARD = MONITORING / "dashboards" / "logs.json"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

# Grafana's variables, as a test evaluates the queries: every service, short windows.
GRAFANA_VARIABLES = {
    "$__rate_interval": "30s",
    "$__interval": "30s",
    "$__range": "1h",
    '"$service"': '".*"',
}


def rule_groups() -> list[dict[str, Any]]:
    """The ``groups`` of the PrometheusRule, as a plain Prometheus rule file holds them."""
    document = yaml.safe_load(RULES.read_text())
    assert document["kind"] == "PrometheusRule"
    return list(document["spec"]["groups"])


def alerts() -> list[dict[str, Any]]:
    return [rule for group in rule_groups() for rule in group["rules"] if "alert" in rule]


def write_rule_files(directory: Path) -> Path:
    """rules.yaml (for Prometheus and promtool) and the rule tests next to it."""
    rules = directory / "rules.yaml"
    rules.write_text(yaml.safe_dump({"groups": rule_groups()}, sort_keys=False))
    shutil.copy(RULE_TESTS, directory / RULE_TESTS.name)
    return rules


def panels(dashboard: Path) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(items: list[dict[str, Any]]) -> None:
        for panel in items:
            if panel.get("type") == "row":
                walk(panel.get("panels", []))
            else:
                found.append(panel)

    walk(json.loads(dashboard.read_text())["panels"])
    return found


def dashboard_queries(dashboard: Path) -> list[tuple[str, str]]:
    """(panel title, query) of every target of every panel."""
    return [
        (panel["title"], target["expr"])
        for panel in panels(dashboard)
        for target in panel.get("targets", [])
    ]


def with_variables(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr.replace("$labels", "").replace("$value", ""), expr
    return expr
