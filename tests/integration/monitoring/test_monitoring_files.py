"""The alert rules pass Prometheus' own tool, every alert has a runbook, and the log dashboard
asks only for fields and event names the log schema defines. (Every query is also evaluated
against a Prometheus that scraped a real run: tests/e2e/test_observability.py.)"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from tests.support.monitoring import (
    LOGS_DASHBOARD,
    PROMTOOL,
    ROOT,
    SERVICES_DASHBOARD,
    alerts,
    dashboard_queries,
    panels,
    write_rule_files,
)

SCHEMA = json.loads((ROOT / "docs" / "log-line.schema.json").read_text())
OPERATIONS = (ROOT / "docs" / "OPERATIONS.md").read_text()


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PROMTOOL, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_promtool_checks_the_rules_and_their_unit_tests_pass(tmp_path: Path) -> None:
    rules = write_rule_files(tmp_path)
    checked = promtool("check", "rules", str(rules))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in checked.stdout
    tested = promtool("test", "rules", str(tmp_path / "alerts.test.yaml"))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_unit_test_and_a_runbook_entry() -> None:
    tests = (ROOT / "deploy" / "monitoring" / "alerts.test.yaml").read_text()
    for alert in alerts():
        name = alert["alert"]
        assert f"alertname: {name}\n" in tests, f"{name} has no promtool test"
        assert re.search(rf"^### {name}$", OPERATIONS, re.M), f"OPERATIONS.md: no ### {name}"
        anchor = alert["annotations"]["runbook_url"].split("#")[1]
        assert anchor == name.lower()
        assert alert["labels"]["severity"] in {"warning", "critical"}


def _log_fields_and_events(expr: str) -> tuple[set[str], set[str]]:
    """Fields a LogQL query reads after ``| json`` and the event names it compares."""
    pipeline = expr.split("| json", 1)[1]
    templates = set(re.findall(r"\{\{\s*\.(\w+)\s*\}\}", pipeline))
    pipeline = re.sub(r'line_format\s+"[^"]*"', "", pipeline)
    compared = set(re.findall(r"\|\s*([a-z_][a-z0-9_]*)\s*(?:=~|!~|!=|>=|<=|==|=|>|<)", pipeline))
    unwrapped = set(re.findall(r"unwrap\s+(\w+)", pipeline))
    grouped = {
        label.strip()
        for group in re.findall(r"\bby\s*\(([^)]*)\)", expr)
        for label in group.split(",")
    }
    events: set[str] = set()
    for operator, value in re.findall(r'\bevent\s*(=~|=)\s*"([^"]+)"', pipeline):
        events |= set(value.split("|")) if operator == "=~" else {value}
    return templates | compared | unwrapped | grouped, events


def test_the_log_dashboard_queries_only_fields_and_events_of_the_log_schema() -> None:
    # Loki's json parser writes a field's dots as underscores (service.name -> service_name).
    fields = {name.replace(".", "_") for name in SCHEMA["properties"]}
    names = set(SCHEMA["x-portal-events"])
    queries = dashboard_queries(LOGS_DASHBOARD)
    assert len(queries) >= 8
    for title, expr in queries:
        assert expr.startswith(("{", "sum", "quantile_over_time", "count")), expr
        used, events = _log_fields_and_events(expr)
        assert used, title
        assert used <= fields, f"{title}: not in the log schema: {sorted(used - fields)}"
        assert events <= names, f"{title}: unknown event names {sorted(events - names)}"


def test_the_metrics_dashboard_covers_services_pipeline_and_funnel() -> None:
    titles = {panel["title"] for panel in panels(SERVICES_DASHBOARD)}
    for needed in (
        "Requests per second",
        "5xx ratio",
        "Request duration p50 / p95",
        "Published per second by outcome",
        "Consumed per second by outcome",
        "Oldest pending event age",
        "Consumer lag (messages ready)",
        "Parked messages",
        "Funnel over the range",
    ):
        assert needed in titles
    for panel in panels(SERVICES_DASHBOARD):
        assert panel["datasource"]["type"] == "prometheus" and panel["targets"], panel["title"]
    ids = [panel["id"] for panel in json.loads(SERVICES_DASHBOARD.read_text())["panels"]]
    assert len(ids) == len(set(ids))
