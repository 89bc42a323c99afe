"""Access tokens against /v1/me: tampering, other keys, alg none, expiry, wrong kid; JWKS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
from identity.domain.tokens import SigningKey
from portal_shared.auth import AccessTokenVerifier

from tests.integration.identity.conftest import Harness, bearer


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


async def me_reason(identity: Harness, token: str) -> tuple[int, str | None]:
    response = await identity.client.get("/v1/me", headers=bearer(token))
    return response.status_code, response.json().get("reason")


async def test_jwks_verifies_issued_tokens(identity: Harness) -> None:
    tokens = await identity.registered_and_verified("jwks@example.org")
    jwks = (await identity.client.get("/.well-known/jwks.json")).json()
    assert [k["kid"] for k in jwks["keys"]] == [identity.ctx.secrets.keys.active.kid]
    verifier = AccessTokenVerifier(
        issuer=identity.settings.issuer,
        audience=identity.settings.audience,
        jwks=jwks,
        clock=identity.clock,
    )
    principal = await verifier.verify(tokens["access_token"])
    assert principal.email_verified and principal.roles == frozenset({"user"})
    assert principal.token_version == 0
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "EdDSA" and header["kid"] == jwks["keys"][0]["kid"]


async def test_tampered_tokens_are_refused(identity: Harness) -> None:
    tokens = await identity.registered_and_verified("tamper@example.org")
    good = tokens["access_token"]
    assert await me_reason(identity, good) == (200, None)
    claims = _claims(good)

    other_key = SigningKey.generate()
    signed_by_other = jwt.encode(
        claims, other_key.private_key, algorithm="EdDSA",
        headers={"kid": other_key.kid, "typ": "at+jwt"},
    )  # fmt: skip
    assert await me_reason(identity, signed_by_other) == (401, "unknown_key")

    active_kid = identity.ctx.secrets.keys.active.kid
    forged_kid = jwt.encode(
        claims, other_key.private_key, algorithm="EdDSA",
        headers={"kid": active_kid, "typ": "at+jwt"},
    )  # fmt: skip
    assert await me_reason(identity, forged_kid) == (401, "token_invalid")

    header = {"alg": "none", "kid": active_kid, "typ": "at+jwt"}
    unsigned = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."
    assert await me_reason(identity, unsigned) == (401, "token_invalid")

    head, _payload, signature = good.split(".")
    raised = {**claims, "roles": ["editor", "user"]}
    swapped = f"{head}.{_b64(json.dumps(raised).encode())}.{signature}"
    assert await me_reason(identity, swapped) == (401, "token_invalid")

    # Algorithm confusion: HMAC keyed with the public key's published bytes.
    public_x = jwt.utils.base64url_decode(identity.ctx.secrets.keys.active.public_jwk()["x"])
    hs_header = {"alg": "HS256", "kid": active_kid, "typ": "at+jwt"}
    signing_input = f"{_b64(json.dumps(hs_header).encode())}.{_b64(json.dumps(claims).encode())}"
    mac = hmac.new(public_x, signing_input.encode(), hashlib.sha256).digest()
    assert await me_reason(identity, f"{signing_input}.{_b64(mac)}") == (401, "token_invalid")

    wrong_kid = jwt.encode(
        claims, identity.ctx.secrets.keys.active.private_key, algorithm="EdDSA",
        headers={"kid": "not-a-kid", "typ": "at+jwt"},
    )  # fmt: skip
    assert await me_reason(identity, wrong_kid) == (401, "unknown_key")

    identity.clock.advance(minutes=15, seconds=31)  # past expiry and the 30 s leeway
    assert await me_reason(identity, good) == (401, "token_expired")

    missing = await identity.client.get("/v1/me")
    assert missing.status_code == 401 and missing.json()["reason"] == "missing_token"
    assert missing.headers["www-authenticate"] == "Bearer"
