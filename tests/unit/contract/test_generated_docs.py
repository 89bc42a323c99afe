"""docs/asyncapi.yaml and docs/events/ are what the code generates, validated by the official
AsyncAPI parser, and agree with the handler registries they were derived from."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from portal_shared.bus.topology import QueueNames
from portal_shared.events import ALL_EVENTS

from tools import contract

VALIDATOR = contract.ROOT / "tools" / "asyncapi" / "validate.mjs"
PARSER = contract.ROOT / "tools" / "asyncapi" / "node_modules" / "@asyncapi" / "parser"


@pytest.fixture(scope="module")
def generated() -> dict[Path, str]:
    return contract.generate()


@pytest.fixture(scope="module")
def document(generated: dict[Path, str]) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(generated[contract.ASYNCAPI])
    return loaded


def test_committed_docs_are_what_the_code_generates(generated: dict[Path, str]) -> None:
    stale = contract.differences(generated)
    assert not stale, (
        f"docs/ is out of date ({', '.join(stale)}); regenerate with: {contract.WRITE_COMMAND}"
    )


def test_no_breaking_change_to_a_published_schema_within_its_version(
    generated: dict[Path, str],
) -> None:
    problems = contract.incompatibilities(generated)
    assert not problems, (
        "breaking changes inside a version (add the type's v2 beside v1, docs/EVENTS.md):\n"
        + "\n".join(problems)
    )


def test_one_schema_per_event_type_and_version(generated: dict[Path, str]) -> None:
    names = {p.name for p in generated if p.parent == contract.SCHEMAS}
    assert names == {f"{model.event_type()}.json" for model in ALL_EVENTS}
    for model in ALL_EVENTS:
        schema = json.loads(generated[contract.SCHEMAS / f"{model.event_type()}.json"])
        assert schema["$id"] == model.schema_uri()
        without_default = {n for n, f in model.model_fields.items() if f.is_required()}
        assert set(schema["required"]) == without_default


def _run_parser(path: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node and PARSER.is_dir(), (
        "the AsyncAPI parser is missing: run deploy/local/infra.sh tools"
    )
    return subprocess.run(
        [node, str(VALIDATOR), str(path)], capture_output=True, text=True, timeout=120, check=False
    )


def _summary(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    last = json.loads(result.stdout.strip().splitlines()[-1])
    summary: dict[str, Any] = last["summary"]
    return summary


def test_the_official_asyncapi_parser_finds_no_error(tmp_path: Path) -> None:
    result = _run_parser(contract.ASYNCAPI)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = _summary(result)
    assert summary["errors"] == 0 and summary["warnings"] == 0, result.stdout
    assert summary["messages"] == len(ALL_EVENTS)
    # The check can fail: a reference to a message that does not exist is an error.
    broken = contract.ASYNCAPI.read_text("utf-8").replace(
        "#/components/messages/UserVerified_v1", "#/components/messages/UserVanished_v1", 1
    )
    (tmp_path / "asyncapi.yaml").write_text(broken, "utf-8")
    failed = _run_parser(tmp_path / "asyncapi.yaml")
    assert failed.returncode == 1 and _summary(failed)["errors"] >= 1, failed.stdout


def test_every_routing_key_is_a_channel_with_its_amqp_binding(document: dict[str, Any]) -> None:
    by_address = {c["address"]: c for c in document["channels"].values()}
    for model in ALL_EVENTS:
        channel = by_address[model.event_type()]
        binding = channel["bindings"]["amqp"]
        assert binding["is"] == "routingKey"
        assert binding["exchange"] == {
            "name": "portal.events",
            "type": "topic",
            "durable": True,
            "autoDelete": False,
            "vhost": "/",
        }
        sender = f"{model.producer}_sends_{model.event_name()}_v{model.version}"
        assert document["operations"][sender]["action"] == "send"


def test_each_service_queue_is_bound_to_exactly_its_registry_types(
    document: dict[str, Any],
) -> None:
    by_address = {c["address"]: c for c in document["channels"].values()}
    for subscription in contract.subscriptions():
        names = QueueNames(subscription.service)
        queue = by_address[names.main]
        keys = [
            b["routingKey"] for b in queue["x-portal-bindings"] if b["exchange"] == "portal.events"
        ]
        assert keys == subscription.registry.routing_keys
        operation = document["operations"][f"{subscription.service}_receives"]
        assert len(operation["messages"]) == len(subscription.registry)
        delays = [names.retry(delay) for delay in contract._defaults().retry_delays_ms]
        for delay, name in zip(contract._defaults().retry_delays_ms, delays, strict=True):
            retry = by_address[name]
            assert retry["x-portal-queue-arguments"]["x-message-ttl"] == delay
        # retries, parking and replay go through the service's own direct exchange, each queue
        # bound there by its own name; the broker's dead-lettering too (not the default exchange)
        for name in (names.main, names.parking, *delays):
            own = {
                "exchange": names.retry_exchange,
                "exchangeType": "direct",
                "routingKey": name,
            }
            assert own in by_address[name]["x-portal-bindings"], name
            arguments = by_address[name]["x-portal-queue-arguments"]
            if "x-dead-letter-routing-key" in arguments:
                assert arguments["x-dead-letter-exchange"] == names.retry_exchange, name
    archive = by_address["portal.events.archive"]
    assert archive["x-portal-queue-arguments"]["x-queue-type"] == "stream"
    assert [b["routingKey"] for b in archive["x-portal-bindings"]] == ["portal.#"]
    assert len(archive["messages"]) == len(ALL_EVENTS)


def test_the_sealed_part_is_described_and_its_content_left_opaque(
    document: dict[str, Any],
) -> None:
    sealed = document["components"]["schemas"]["UserRegistered_v1"]["properties"]["sealed"]
    assert sealed["type"] == "string" and sealed["contentEncoding"] == "base64"
    assert sealed["x-portal-sealed"] is True and "opaque" in sealed["description"]
    assert "properties" not in sealed


def test_the_policy_lists_every_event_type_with_its_schema() -> None:
    policy = (contract.DOCS / "EVENTS.md").read_text("utf-8")
    for model in ALL_EVENTS:
        path = f"events/{model.event_type()}.json"
        row = f"| `{model.event_type()}` | {model.producer} | [{path}]({path}) |"
        assert row in policy, f"docs/EVENTS.md lacks the row {row}"
    listed = sum(line.startswith("| `portal.") for line in policy.splitlines())
    assert listed == len(ALL_EVENTS)
