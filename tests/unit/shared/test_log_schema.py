"""The log schema lists every event name the code logs, and docs/LOGGING.md documents each.

Event names are read from the source: the first argument of ``log.<level>("name", ...)`` and
the action of ``audit(log, "action", ...)`` (``audit.<action>``), including actions passed
through a helper's ``action`` parameter. A new log line whose name the schema does not list
fails here; the e2e suite validates every line a whole run writes against the schema.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[3]
SCHEMA_PATH = ROOT / "docs" / "log-line.schema.json"
DOC_PATH = ROOT / "docs" / "LOGGING.md"
LEVELS = {"debug", "info", "warning", "error", "exception", "critical"}
SOURCES = [ROOT / "shared" / "src", *sorted((ROOT / "services").glob("*/src"))]
# Calls whose name is not a literal, each reviewed: the audit helper itself, and helpers that
# take the audited action as an ``action`` parameter (their literal arguments are collected).
DYNAMIC_ALLOWED = {"logging.py:audit"}


def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


def _functions_with_action_param(trees: list[tuple[Path, ast.AST]]) -> dict[str, int]:
    found: dict[str, int] = {}
    for _path, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names = [a.arg for a in node.args.args]
                if "action" in names:
                    found[node.name] = names.index("action")
    return found


def logged_events() -> tuple[dict[str, str], list[str]]:
    """({event name: level}, [dynamic call sites not allowed])."""
    trees = [
        (path, ast.parse(path.read_text()))
        for source in SOURCES
        for path in sorted(source.rglob("*.py"))
    ]
    helpers = _functions_with_action_param(trees)
    events: dict[str, str] = {}
    dynamic: list[str] = []
    for path, tree in trees:
        enclosing: dict[ast.AST, str] = {}
        for func in ast.walk(tree):
            if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(func):  # breadth first: the innermost name wins
                    enclosing[inner] = func.name
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                where = f"{path.name}:{enclosing.get(node, '<module>')}"
                callee = node.func
                if (
                    isinstance(callee, ast.Attribute)
                    and callee.attr in LEVELS
                    and isinstance(callee.value, ast.Name)
                    and callee.value.id in {"log", "logger"}
                ):
                    first = node.args[0] if node.args else None
                    if isinstance(first, ast.Constant) and isinstance(first.value, str):
                        events[first.value] = "error" if callee.attr == "exception" else callee.attr
                    elif where not in DYNAMIC_ALLOWED:
                        dynamic.append(f"{where}:{node.lineno}")
                elif isinstance(callee, ast.Name) and callee.id == "audit":
                    action = node.args[1] if len(node.args) > 1 else None
                    if isinstance(action, ast.Constant) and isinstance(action.value, str):
                        events[f"audit.{action.value}"] = "info"
                    elif not (isinstance(action, ast.Name) and action.id == "action"):
                        dynamic.append(f"{where}:{node.lineno}")
                elif isinstance(callee, ast.Name) and callee.id in helpers:
                    index = helpers[callee.id]
                    passed = node.args[index] if len(node.args) > index else None
                    for keyword in node.keywords:
                        if keyword.arg == "action":
                            passed = keyword.value
                    if isinstance(passed, ast.Constant) and isinstance(passed.value, str):
                        events[f"audit.{passed.value}"] = "info"
    return events, dynamic


def test_every_event_name_the_code_logs_is_in_the_schema_with_its_level() -> None:
    events, dynamic = logged_events()
    assert not dynamic, f"log event names must be literals: {dynamic}"
    listed = schema()["x-portal-events"]
    missing = sorted(set(events) - set(listed))
    assert not missing, f"add these to docs/log-line.schema.json and docs/LOGGING.md: {missing}"
    wrong_level = {
        n: (lvl, listed[n]["level"]) for n, lvl in events.items() if listed[n]["level"] != lvl
    }
    assert not wrong_level, wrong_level
    stale = sorted(set(listed) - set(events))
    assert not stale, f"the schema lists names no code logs: {stale}"


def test_the_schema_enum_and_the_document_agree_with_the_event_list() -> None:
    doc = schema()
    listed = doc["x-portal-events"]
    enum = next(rule for rule in doc["allOf"] if "logger" in rule["if"]["properties"])
    assert enum["then"]["properties"]["event"]["enum"] == sorted(listed)
    text = DOC_PATH.read_text()
    for name, entry in listed.items():
        row = re.search(rf"^\| `{re.escape(name)}` \| ([^|]+) \| {entry['level']} \|", text, re.M)
        assert row, f"docs/LOGGING.md has no row for {name} ({entry['level']})"
    for field in doc["properties"]:
        assert f"`{field}`" in text, f"docs/LOGGING.md does not describe the field {field}"


@pytest.mark.parametrize(
    ("line", "valid"),
    [
        (
            {
                "timestamp": "2026-12-01T09:00:00.1Z",
                "level": "info",
                "service.name": "identity",
                "event": "http_request",
                "logger": "portal.http",
                "http.request.method": "POST",
                "url.path": "/v1/registrations",
                "http.route": "/v1/registrations",
                "http.response.status_code": 202,
                "duration_ms": 3.2,
                "request_id": "r",
                "correlation_id": "r",
                "trace_id": "a" * 32,
                "span_id": "b" * 16,
            },
            True,
        ),
        (
            {
                "timestamp": "2026-12-01T09:00:00Z",
                "level": "info",
                "service.name": "identity",
                "event": "made_up_name",
                "logger": "identity.service_layer.sessions",
            },
            False,
        ),
        (
            {
                "timestamp": "2026-12-01T09:00:00Z",
                "level": "info",
                "service.name": "identity",
                "event": "Started server process [12]",
                "logger": "uvicorn.error",
            },
            True,
        ),
        (
            {
                "timestamp": "2026-12-01T09:00:00Z",
                "level": "info",
                "service.name": "identity",
                "event": "audit.sign_in",
                "logger": "identity.service_layer.sessions",
                "audit": True,
                "action": "sign_in",
            },
            False,  # no outcome
        ),
        (
            {
                "timestamp": "2026-12-01T09:00:00Z",
                "level": "info",
                "service.name": "identity",
                "event": "bus_connected",
                "password": "x",
            },
            False,  # an undocumented field
        ),
    ],
)
def test_the_schema_accepts_documented_lines_and_refuses_others(line: dict, valid: bool) -> None:
    validator = jsonschema.Draft202012Validator(
        schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    assert validator.is_valid(line) is valid, list(validator.iter_errors(line))
