"""Malformed input gets a 4xx problem document with a stable code, never a 500."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.integration.identity.conftest import PASSWORD, Harness

SURROGATE = "\ud800"
EMAIL = "odd@example.org"


async def send(identity: Harness, method: str, path: str, body: Any) -> httpx.Response:
    # json.dumps escapes the surrogate (\\ud800) as a browser would; httpx would not encode it
    content = json.dumps(body)
    headers = {"Content-Type": "application/json"}
    return await identity.client.request(method, path, content=content, headers=headers)


CASES: list[tuple[str, str, Any, int, str]] = [
    # FastAPI's JSON parsing refuses lone surrogates before any flow sees them
    ("post", "/v1/sessions", {"email": EMAIL, "password": PASSWORD + SURROGATE}, 422,
     "validation_error"),
    ("post", "/v1/registrations", {"email": f"a{SURROGATE}@example.org", "password": PASSWORD},
     422, "validation_error"),
    ("post", "/v1/registrations/verify", {"registration_id": "r", "code": SURROGATE * 6}, 422,
     "validation_error"),
    ("post", "/v1/password-resets/complete",
     {"reset_token": SURROGATE, "new_password": "Other-Pass-77?x"}, 422, "validation_error"),
    ("post", "/v1/sessions/refresh", {"refresh_token": SURROGATE}, 422, "validation_error"),
    ("post", "/v1/sessions/sign-out", {"refresh_token": SURROGATE}, 422, "validation_error"),
    # control characters and malformed values reach the flows
    ("post", "/v1/sessions", {"email": "a\u0000b@example.org", "password": PASSWORD}, 422,
     "invalid_email"),
    ("post", "/v1/sessions", {"email": "ghost@example.org", "password": "\u0000" * 5}, 401,
     "invalid_credentials"),
    ("post", "/v1/registrations", {"email": EMAIL, "password": "Aa1!\u0000xxxxxxxxx"}, 422,
     "password_rejected"),
    ("post", "/v1/registrations", {"email": "x" * 300 + "@example.org", "password": PASSWORD},
     422, "invalid_email"),
    ("post", "/v1/registrations/verify", {"registration_id": "r\u0000", "code": "12345\u0000"},
     404, "registration_not_found"),
    ("post", "/v1/password-resets/verify", {"reset_id": "r\u0000", "code": "１２３４５６"}, 404,
     "reset_not_found"),
    ("post", "/v1/password-resets/complete",
     {"reset_token": "\u0000", "new_password": "Other-Pass-77?x"}, 400, "reset_token_rejected"),
    ("post", "/v1/sessions/refresh", {"refresh_token": "é" * 10}, 401, "refresh_rejected"),
    # shapes and types
    ("post", "/v1/registrations", {"email": EMAIL, "password": PASSWORD, "language": "de"}, 422,
     "validation_error"),
    ("post", "/v1/registrations", {"email": EMAIL}, 422, "validation_error"),
    ("post", "/v1/registrations", ["not", "an", "object"], 422, "validation_error"),
    ("post", "/v1/registrations", {"email": 42, "password": PASSWORD}, 422, "validation_error"),
    ("post", "/v1/registrations/verify", {"registration_id": "r", "code": "x" * 33}, 422,
     "validation_error"),
    ("post", "/v1/registrations/verify", {"email": EMAIL, "code": "123456"}, 422,
     "validation_error"),
    ("post", "/v1/sessions/refresh", {"refresh_token": "x" * 257}, 422, "validation_error"),
    ("patch", "/v1/me", {"language": "de"}, 401, "not_authenticated"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), CASES)
async def test_malformed_input_is_a_problem_not_a_crash(
    identity: Harness, method: str, path: str, body: Any, status: int, code: str
) -> None:
    response = await send(identity, method, path, body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    "authorization", ["Bearer " + "x" * 40, "Bearer a.b.c", "Basic Zm9vOmJhcg==", "Bearer"]
)
async def test_garbage_bearer_tokens_are_401(identity: Harness, authorization: str) -> None:
    response = await identity.client.get("/v1/me", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
