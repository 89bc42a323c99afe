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
    assert len(operations) == 17
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
        # FastAPI's own validation error is documented wherever a 422 can come back
        validation = operation["responses"]["422"]["content"]["application/problem+json"]
        assert validation["examples"]["validation_error"]["value"]["code"] == "validation_error"
        for status, response in operation["responses"].items():
            if status.startswith("2") and status != "204":
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert components[ref.rsplit("/", 1)[1]].get("examples"), (path, method, status)
            if status == "429":
                assert "Retry-After" in response["headers"], (path, method)


def test_every_problem_example_is_what_the_handler_sends(tmp_path: Path) -> None:
    """Examples are built from the same mapping as the answers, with the answer's status."""
    schema = openapi(tmp_path)
    for item in schema["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                problem = response.get("content", {}).get("application/problem+json")
                for example in (problem or {}).get("examples", {}).values():
                    value = example["value"]
                    assert str(value["status"]) == status
                    assert value["type"] == f"/problems/{value['code']}"


def test_throttled_sign_in_is_documented_with_retry_after(tmp_path: Path) -> None:
    sign_in = openapi(tmp_path)["paths"]["/v1/sessions"]["post"]["responses"]["401"]
    assert "Retry-After" in sign_in["headers"]
    examples = sign_in["content"]["application/problem+json"]["examples"]
    assert {"invalid_credentials", "sign_in_throttled"} <= set(examples)


def test_registration_answer_has_no_user_id(tmp_path: Path) -> None:
    schema = openapi(tmp_path)
    for answer in ("PendingRegistration", "PendingReset"):
        assert "user_id" not in schema["components"]["schemas"][answer]["properties"]
    assert "/.well-known/jwks.json" in schema["paths"]
