"""The OpenAPI document is complete: every /v1 operation has examples and error bodies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from identity.bootstrap import build_app
from identity.settings import IdentitySettings
from portal_shared.sealing import generate_keypair


def openapi(tmp_path: Path) -> dict[str, Any]:
    settings = IdentitySettings(data_dir=tmp_path, notifier_public_key=generate_keypair()[1])
    schema: dict[str, Any] = build_app(settings, frozenset({"api"})).openapi()
    return schema


def test_every_operation_documents_examples_and_problems(tmp_path: Path) -> None:
    schema = openapi(tmp_path)
    components = schema["components"]["schemas"]
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        if path.startswith("/v1/")
        for method, operation in item.items()
    ]
    assert len(operations) == 15
    for path, method, operation in operations:
        assert operation.get("summary"), (path, method)
        errors = [status for status in operation["responses"] if status.startswith(("4", "5"))]
        assert errors, (path, method)
        for status in errors:
            content = operation["responses"][status]["content"]["application/problem+json"]
            assert content["examples"], (path, method, status)
        body = operation.get("requestBody")
        if body:
            ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
            assert components[ref].get("examples"), ref


def test_registration_answer_has_no_user_id(tmp_path: Path) -> None:
    schema = openapi(tmp_path)
    assert "user_id" not in schema["components"]["schemas"]["PendingCode"]["properties"]
    assert "/.well-known/jwks.json" in schema["paths"]
