"""Issue 12's "Keep" list: what already held, stated once here as tests on the real services.

- 18 kinds of forged access tokens are all 401 (``test_forged_access_tokens_are_refused``);
- refresh-token reuse ends the family (``test_refresh_token_reuse_ends_the_family``);
- a reset ends every session everywhere (``test_a_reset_ends_every_session_everywhere`` here
  for identity's own routes and refresh tokens; the other services refuse the old access
  tokens once they consume ``SessionsRevoked``: tests/integration/catalog and
  tests/integration/transcript ``test_token_revocation.py``);
- no code, password or token in clear in any log line, document or bus message
  (``test_no_secrets.py`` in this folder: a full run through every identity flow);
- MongoDB operators in any JSON body field are 422 (``test_mongodb_operators_in_any_field``);
- CR/LF never reaches a header (``test_cr_lf_never_reaches_a_header``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import quote, unquote

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from identity.domain.tokens import SigningKey

from tests.integration.identity.conftest import OTHER_PASSWORD, PASSWORD, Harness, bearer

ATTACKER_URL = "http://127.0.0.1:9/jwks.json"  # discard port: nothing may fetch it


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: str = "") -> str:
    encoded = (_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()))
    return f"{encoded[0]}.{encoded[1]}.{signature}"


def _hmac(header: dict[str, Any], claims: dict[str, Any], key: bytes, digest: Any) -> str:
    signing_input = _unsigned(header, claims)[:-1]
    return f"{signing_input}.{_b64(hmac.new(key, signing_input.encode(), digest).digest())}"


def _forgeries(good: str, real: SigningKey) -> dict[str, str]:
    """Each kind of forgery, made from a real token and the service's public key only."""
    claims = jwt.decode(good, options={"verify_signature": False})
    head, payload, signature = good.split(".")
    kid = real.kid
    public = real.private_key.public_key()
    raw_public = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pem_public = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    jwk_public = json.dumps(real.public_jwk()).encode()
    attacker = SigningKey.generate()
    attacker_jwk = attacker.public_jwk()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def attacker_signed(claims_: dict[str, Any], **header: Any) -> str:
        return jwt.encode(
            claims_, attacker.private_key, algorithm="EdDSA", headers={"typ": "at+jwt", **header}
        )

    def real_signature_over(changed: dict[str, Any]) -> str:
        return f"{head}.{_b64(json.dumps({**claims, **changed}).encode())}.{signature}"

    hs = {"typ": "at+jwt", "kid": kid}
    return {
        "alg_none": _unsigned({"alg": "none", "kid": kid, "typ": "at+jwt"}, claims),
        "alg_NONE_capitals": _unsigned({"alg": "NONE", "kid": kid, "typ": "at+jwt"}, claims),
        "alg_none_real_signature_kept": _unsigned(
            {"alg": "none", "kid": kid, "typ": "at+jwt"}, claims, signature
        ),
        "signature_stripped": f"{head}.{payload}.",
        "hs256_keyed_with_raw_public_key": _hmac(
            {"alg": "HS256", **hs}, claims, raw_public, hashlib.sha256
        ),
        "hs256_keyed_with_public_pem": _hmac(
            {"alg": "HS256", **hs}, claims, pem_public, hashlib.sha256
        ),
        "hs256_keyed_with_public_jwk": _hmac(
            {"alg": "HS256", **hs}, claims, jwk_public, hashlib.sha256
        ),
        "hs512_keyed_with_raw_public_key": _hmac(
            {"alg": "HS512", **hs}, claims, raw_public, hashlib.sha512
        ),
        "claims_roles_raised": real_signature_over({"roles": ["editor", "user"]}),
        "claims_other_subject": real_signature_over({"sub": "0" * 32}),
        "claims_expiry_extended": real_signature_over({"exp": claims["exp"] + 86400}),
        "claims_token_version_raised": real_signature_over({"tv": claims["tv"] + 5}),
        "unknown_kid": attacker_signed(claims, kid="not-a-kid"),
        "path_like_kid": attacker_signed(claims, kid="../../../../../../dev/null"),
        "jku_header_to_attackers_keys": attacker_signed(claims, kid=attacker.kid, jku=ATTACKER_URL),
        "jwk_header_with_attackers_key": attacker_signed(claims, kid=kid, jwk=attacker_jwk),
        "own_key_under_the_real_kid": attacker_signed(claims, kid=kid),
        "rs256_own_key_under_the_real_kid": jwt.encode(
            claims, rsa_key, algorithm="RS256", headers={"typ": "at+jwt", "kid": kid}
        ),
    }


async def test_forged_access_tokens_are_refused(identity: Harness) -> None:
    tokens = await identity.registered_and_verified("forged@example.org")
    good = tokens["access_token"]
    assert (await identity.client.get("/v1/me", headers=bearer(good))).status_code == 200
    forgeries = _forgeries(good, identity.ctx.secrets.keys.active)
    assert len(forgeries) == 18
    answers = {
        kind: (await identity.client.get("/v1/me", headers=bearer(token))).status_code
        for kind, token in forgeries.items()
    }
    assert answers == dict.fromkeys(forgeries, 401), answers
    # ...and the real token still works (no forgery changed anything).
    assert (await identity.client.get("/v1/me", headers=bearer(good))).status_code == 200


async def _refresh(identity: Harness, refresh_token: str) -> httpx.Response:
    return await identity.client.post("/v1/sessions/refresh", json={"refresh_token": refresh_token})


async def test_refresh_token_reuse_ends_the_family(identity: Harness) -> None:
    tokens = await identity.registered_and_verified("family@example.org")
    rotated = await _refresh(identity, tokens["refresh_token"])
    assert rotated.status_code == 200
    reused = await _refresh(identity, tokens["refresh_token"])  # the rotated-away one again
    assert reused.status_code == 401 and reused.json()["reason"] == "reused"
    # The thief's and the owner's newest token alike: the whole family has ended.
    after = await _refresh(identity, rotated.json()["refresh_token"])
    assert after.status_code == 401


async def test_a_reset_ends_every_session_everywhere(identity: Harness) -> None:
    email = "everywhere@example.org"
    first = await identity.registered_and_verified(email)
    sessions = [first]
    for ip in ("198.51.100.31", "198.51.100.32"):  # two more devices
        async with identity.client_from(ip) as device:
            signed_in = await device.post(
                "/v1/sessions", json={"email": email, "password": PASSWORD}
            )
            assert signed_in.status_code == 200
            sessions.append(signed_in.json())
    reset_id = await identity.reset_id(email)
    code = await identity.code_for(email, "ResetRequested")
    token = (await identity.verify_reset(reset_id, code)).json()["reset_token"]
    body = {"reset_token": token, "new_password": OTHER_PASSWORD}
    assert (await identity.client.post("/v1/password-resets/complete", json=body)).is_success
    revoked = await identity.event("SessionsRevoked")
    assert revoked.data["reason"] == "password_reset"
    for session in sessions:
        me = await identity.client.get("/v1/me", headers=bearer(session))
        assert me.status_code == 401 and me.json()["reason"] == "token_revoked"
        assert (await _refresh(identity, session["refresh_token"])).status_code == 401


OPERATORS = ({"$ne": None}, {"$gt": ""}, {"$where": "1"}, [{"$regex": ".*"}])


def _json_bodies(app: Any) -> list[tuple[str, str, list[str]]]:
    """Every (method, path, fields) of an app whose request body is a JSON object."""
    schema = app.openapi()
    found = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            if not body:
                continue
            if "$ref" in body:
                body = schema["components"]["schemas"][body["$ref"].split("/")[-1]]
            if body.get("properties"):
                found.append((method, path, sorted(body["properties"])))
    return found


async def _every_field_refuses_operators(
    client: httpx.AsyncClient, app: Any, headers: dict[str, str], expected_routes: int
) -> None:
    routes = _json_bodies(app)
    assert len(routes) >= expected_routes, routes
    for method, path, fields in routes:
        url = path.replace("{video_id}", "vid").replace("{slug}", "vid")
        for operator in OPERATORS:
            body = dict.fromkeys(fields, operator)
            response = await client.request(method, url, json=body, headers=headers)
            assert response.status_code == 422, (method, path, operator, response.text)
            locations = [e["loc"] for e in response.json()["errors"]]
            refused = {loc[1] if loc[0] == "body" else loc[0] for loc in locations}
            missed = [f for f in fields if f not in refused]
            assert not missed, (method, path, operator, missed)


async def test_mongodb_operators_in_any_field_are_422(
    identity: Harness, catalog: Any, service: Any
) -> None:
    editor = catalog.auth("operator-editor", ("user", "editor"))
    user = bearer(await identity.registered_and_verified("operators@example.org"))
    await _every_field_refuses_operators(identity.client, identity.app, user, 10)
    await _every_field_refuses_operators(catalog.client, catalog.app, editor, 2)
    await _every_field_refuses_operators(service.client, service.app, service.auth(), 1)


async def _raw_call(
    app: Any, path: str, query: str = "", headers: tuple[tuple[bytes, bytes], ...] = ()
) -> tuple[int, list[tuple[bytes, bytes]]]:
    """One GET straight into the ASGI app, bytes exactly as given (an HTTP client would refuse
    CR/LF itself); returns the status and the raw header lines the app started to send."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": unquote(path), "raw_path": path.encode("latin-1"),
        "query_string": query.encode("latin-1"), "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("203.0.113.50", 40000), "server": ("testserver", 80),
    }  # fmt: skip
    started: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            started.append(message)

    await app(scope, receive, send)
    return started[0]["status"], list(started[0].get("headers", []))


CRLF = ("a\r\nSet-Cookie: owned=1", "%0d%0aSet-Cookie:%20owned=1", "\r\n\r\n<html>")


@pytest.mark.parametrize("value", CRLF)
async def test_cr_lf_never_reaches_a_header(
    identity: Harness, catalog: Any, service: Any, value: str
) -> None:
    """Every input that could end up in a header (request id, redirect targets, ids in paths
    that name files or locations), with CR/LF raw and percent-encoded."""
    encoded = quote(value, safe="%")
    calls: list[tuple[Any, str, str, tuple[tuple[bytes, bytes], ...]]] = []
    for app in (identity.app, catalog.app, service.app):
        calls += [
            (app, "/healthz", "", ((b"x-request-id", value.encode()),)),
            (app, f"/v1/videos/{encoded}", "", ()),
        ]
    for page in ("/account/sign-in", "/account/reset", "/account/register"):
        calls.append((identity.app, page, f"next={encoded}", ()))
    calls += [
        (service.app, f"/v1/videos/{encoded}/transcript", "format=vtt", ()),
        (catalog.app, "/v1/videos", f"cursor={encoded}", ()),
        (catalog.app, f"/videos/{encoded}", "", ()),
    ]
    for app, path, query, headers in calls:
        status, lines = await _raw_call(app, path, query, headers)
        assert status < 500, (path, query, status)
        for name, raw in lines:
            assert not {b"\r", b"\n"} & {bytes([c]) for c in name + raw}, (path, name, raw)
