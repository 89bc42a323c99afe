"""No key material in the repository; every Secret a pod reads is provided in each overlay."""

from __future__ import annotations

import base64
import importlib.util
import re
import string
from collections.abc import Iterator

import pytest
import yaml

from .checks import operator_written_secrets, secret_references
from .manifests import K8S, Doc, load_documents, of_kind

PLACEHOLDER = re.compile(r"^(REPLACE_ME|CHANGE_ME|<[^>]+>)")
ENCODED = re.compile(r"^[A-Za-z0-9+/=_-]{32,}$")


def load_dev_secrets_module():
    spec = importlib.util.spec_from_file_location("dev_secrets", K8S / "dev_secrets.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def dev_secrets_module():
    return load_dev_secrets_module()


def strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def looks_like_key_material(text: str) -> bool:
    """A PEM block, or a long run of base64/hex with letters and digits (a key or password).

    Slashes are base64 too, but one in every few characters is a path (a JSON patch's).
    """
    if "-----BEGIN" in text or "PRIVATE KEY" in text:
        return True
    return bool(
        ENCODED.match(text)
        and text.count("/") < len(text) / 10
        and any(c.isdigit() for c in text)
        and any(c in string.ascii_letters for c in text)
    )


def secret_value_problems(docs: list[Doc]) -> list[str]:
    problems = []
    for doc in docs:
        if not isinstance(doc, dict):  # a JSON patch: only its strings matter
            problems += [
                "patch: key-like value" for s in strings(doc) if looks_like_key_material(s)
            ]
            continue
        name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        problems += [f"{name}: key-like value" for s in strings(doc) if looks_like_key_material(s)]
        if doc.get("kind") == "Secret":
            data = {**(doc.get("stringData") or {}), **(doc.get("data") or {})}
            problems += [
                f"{name}: {key} is not a placeholder"
                for key, value in data.items()
                if not PLACEHOLDER.match(str(value))
            ]
        for generator in doc.get("secretGenerator") or []:
            problems += [
                f"{name}: literal {literal.split('=')[0]} is not a placeholder"
                for literal in generator.get("literals") or []
                if not PLACEHOLDER.match(literal.partition("=")[2])
            ]
    return problems


def test_no_committed_manifest_holds_key_material():
    docs = [doc for path in sorted(K8S.rglob("*.yaml")) for doc in load_documents(path)]
    assert docs
    assert secret_value_problems(docs) == []


def test_the_scan_catches_keys_and_passwords(dev_secrets_module):
    generated = dev_secrets_module.dev_secrets("portal-dev")
    problems = secret_value_problems(generated)
    assert any("identity-keys: key-like value" in p for p in problems)
    assert any("signing-key.pem is not a placeholder" in p for p in problems)
    assert any("identity-mongodb-password: password is not a placeholder" in p for p in problems)
    placeholder = {"kind": "Secret", "metadata": {"name": "x"}, "stringData": {"a": "REPLACE_ME"}}
    assert secret_value_problems([placeholder]) == []
    kustomization = {"secretGenerator": [{"name": "x", "literals": ["password=hunter2"]}]}
    assert secret_value_problems([kustomization])


def provided_by_external_secrets(docs: list[Doc]) -> set[tuple[str, str]]:
    return {
        (external["spec"]["target"]["name"], entry["secretKey"])
        for external in of_kind(docs, "ExternalSecret")
        for entry in external["spec"]["data"]
    }


def provided_by_dev_script(module) -> set[tuple[str, str]]:
    return {
        (secret["metadata"]["name"], key)
        for secret in module.dev_secrets("portal-dev")
        for key in secret["stringData"]
    }


def test_every_secret_read_in_prod_comes_from_an_external_secret(prod_docs):
    needed = secret_references(prod_docs) - operator_written_secrets(prod_docs)
    assert ("identity-keys", "signing-key.pem") in needed
    assert needed - provided_by_external_secrets(prod_docs) == set()


def test_every_secret_read_in_dev_comes_from_the_dev_script(dev_docs, dev_secrets_module):
    needed = secret_references(dev_docs) - operator_written_secrets(dev_docs)
    assert ("notifier-keys", "private.key") in needed
    assert ("notifier-keys", "identity-public.keys") in needed
    assert ("identity-keys", "sealing.key") in needed
    assert needed - provided_by_dev_script(dev_secrets_module) == set()


def test_mongodb_urls_come_from_the_operators_connection_secrets(overlay_docs):
    _, docs = overlay_docs
    written = {name for name, _ in operator_written_secrets(docs)}
    assert {
        name for name, key in secret_references(docs) if key.startswith("connection")
    } <= written


def test_dev_secrets_are_valid_fresh_and_url_safe(dev_secrets_module):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from portal_shared.sealing import public_key_of

    first = {s["metadata"]["name"]: s["stringData"] for s in dev_secrets_module.dev_secrets()}
    second = {s["metadata"]["name"]: s["stringData"] for s in dev_secrets_module.dev_secrets()}
    identity, notifier = first["identity-keys"], first["notifier-keys"]
    assert isinstance(
        load_pem_private_key(identity["signing-key.pem"].encode(), None), Ed25519PrivateKey
    )
    assert len(base64.b64decode(identity["code-hmac.key"], validate=True)) == 32
    assert public_key_of(notifier["private.key"]) == identity["notifier-public.key"]
    assert public_key_of(identity["sealing.key"]) == notifier["identity-public.keys"]
    assert identity["sealing.key"] != second["identity-keys"]["sealing.key"]
    kid, _, material = first["catalog-keys"]["link-keys"].partition(":")
    assert kid and len(base64.b64decode(material, validate=True)) == 32
    for name, values in first.items():
        if "password" in values:
            assert re.fullmatch(r"[0-9a-f]{32,}", values["password"]), name
            assert values["password"] != second[name]["password"]
    assert identity["signing-key.pem"] != second["identity-keys"]["signing-key.pem"]


def test_dev_secrets_prints_namespaced_secret_manifests(dev_secrets_module, capsys):
    assert dev_secrets_module.main(["--namespace", "sandbox"]) == 0
    printed = list(yaml.safe_load_all(capsys.readouterr().out))
    assert printed and all(doc["kind"] == "Secret" for doc in printed)
    assert {doc["metadata"]["namespace"] for doc in printed} == {"sandbox"}
