"""The broker users of Kubernetes (Messaging Topology Operator) follow the same rules as the
local set-up's (deploy/local/bus_users.py), which the integration tests prove on a broker."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from portal_shared.events import ALL_EVENTS

ROOT = Path(__file__).resolve().parents[3]
RABBITMQ = ROOT / "deploy" / "k8s" / "components" / "infra" / "rabbitmq.yaml"


def bus_users() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bus_users", ROOT / "deploy/local/bus_users.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _by_user(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["spec"]["userReference"]["name"]: d["spec"] for d in docs if d["kind"] == kind}


def test_publishers_are_the_producers_of_the_contract() -> None:
    assert set(bus_users().PUBLISHERS) == {model.producer for model in ALL_EVENTS}


def test_kubernetes_users_have_the_local_set_up_permissions() -> None:
    module = bus_users()
    expected = module.permissions("portal.events", "", "")
    docs = [d for d in yaml.safe_load_all(RABBITMQ.read_text()) if d]
    users = {d["metadata"]["name"] for d in docs if d["kind"] == "User"}
    assert users == {f"{name}-rabbitmq" for name in expected}
    permissions = {
        d["spec"]["userReference"]["name"]: d["spec"] for d in docs if d["kind"] == "Permission"
    }
    topics = {
        d["spec"]["userReference"]["name"]: d["spec"]
        for d in docs
        if d["kind"] == "TopicPermission"
    }
    for name, grant in expected.items():
        user = f"{name}-rabbitmq"
        assert permissions[user]["vhost"] == topics[user]["vhost"] == "portal"
        assert permissions[user]["permissions"] == {
            k: grant[k] for k in ("configure", "write", "read")
        }, user
        assert topics[user]["permissions"] == grant["topic"], user


def test_only_producers_may_publish_and_each_only_its_own_keys() -> None:
    table = bus_users().permissions("portal.events", "", "")
    for name, grant in table.items():
        write = re.compile(grant["topic"]["write"])
        for model in ALL_EVENTS:
            allowed = bool(write.match(model.event_type()))
            assert allowed == (model.producer == name), (name, model.event_type())
