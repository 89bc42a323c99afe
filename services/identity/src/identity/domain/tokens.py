"""Access tokens: short-lived JWTs signed with Ed25519 (EdDSA), and the signing key set.

Other services verify them with ``portal_shared.auth`` against ``KeySet.jwks()`` (served at
``/.well-known/jwks.json``); identity can do the same with a static verifier built from the
same key set, and then also compares ``tv`` with the account's current token version.

Rotation: start signing with a new key while the old one stays in the set as ``previous``
(its tokens keep verifying); drop it once its last tokens have expired (after at least the
access-token lifetime plus the verifiers' JWKS cache time). A ``kid`` is the RFC 7638
thumbprint of the public key unless one is given, so it is stable across restarts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from portal_shared.auth import (
    ALGORITHM,
    CLAIM_EMAIL_VERIFIED,
    CLAIM_ROLES,
    CLAIM_TOKEN_VERSION,
    TOKEN_TYPE,
)

ACCESS_TOKEN_TTL = timedelta(minutes=15)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def thumbprint(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) of an Ed25519 public key."""
    members = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(_raw_public(public_key))}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return _b64url(hashlib.sha256(canonical).digest())


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh key: for development and tests; production keys come from secret files."""
        private_key = Ed25519PrivateKey.generate()
        return cls(thumbprint(private_key.public_key()), private_key)

    @classmethod
    def from_pem(cls, pem: str | bytes, kid: str | None = None) -> SigningKey:
        """Load an unencrypted PKCS#8 PEM Ed25519 private key (``openssl genpkey -algorithm
        ed25519``); ValueError if it is anything else."""
        data = pem.encode() if isinstance(pem, str) else pem
        private_key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(private_key, Ed25519PrivateKey):
            raise ValueError("the signing key must be an Ed25519 private key")
        return cls(kid or thumbprint(private_key.public_key()), private_key)

    def private_pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    def public_jwk(self) -> dict[str, str]:
        raw = _raw_public(self.private_key.public_key())
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64url(raw),
            "kid": self.kid,
            "use": "sig",
            "alg": ALGORITHM,
        }


@dataclass(frozen=True)
class KeySet:
    """The active signing key and at most one previous key still accepted during rotation."""

    active: SigningKey
    previous: SigningKey | None = None

    def __post_init__(self) -> None:
        if self.previous is not None and self.previous.kid == self.active.kid:
            raise ValueError("the previous key must have another kid than the active key")

    @classmethod
    def from_pems(cls, active_pem: str | bytes, previous_pem: str | bytes | None = None) -> KeySet:
        previous = SigningKey.from_pem(previous_pem) if previous_pem else None
        return cls(SigningKey.from_pem(active_pem), previous)

    @classmethod
    def generate_dev(cls) -> KeySet:
        return cls(SigningKey.generate())

    def rotated(self, new_key: SigningKey) -> KeySet:
        """Sign with ``new_key`` from now on; the current key becomes ``previous``."""
        return KeySet(new_key, self.active)

    def without_previous(self) -> KeySet:
        return KeySet(self.active)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public JWKS document for ``/.well-known/jwks.json``."""
        keys = [self.active] + ([self.previous] if self.previous else [])
        return {"keys": [key.public_jwk() for key in keys]}


@dataclass(frozen=True)
class AccessTokenSettings:
    issuer: str
    audience: str
    ttl: timedelta = ACCESS_TOKEN_TTL
    # RFC 9068 §2.2: an at+jwt names the OAuth client it was issued to. The portal's own
    # pages and apps are one first-party client; sign-in issues tokens to it only.
    client_id: str = "portal"


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_at: datetime
    jti: str


def issue_access_token(
    keys: KeySet,
    *,
    user_id: str,
    email_verified: bool,
    roles: frozenset[str] | list[str] | tuple[str, ...],
    token_version: int,
    now: datetime,
    settings: AccessTokenSettings,
) -> AccessToken:
    """A signed access token for the account, valid ``settings.ttl`` from ``now``."""
    issued_at = int(now.timestamp())
    expires_at = issued_at + int(settings.ttl.total_seconds())
    jti = secrets.token_urlsafe(16)
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": user_id,
        "iat": issued_at,
        "exp": expires_at,
        "jti": jti,
        "client_id": settings.client_id,
        CLAIM_EMAIL_VERIFIED: email_verified,
        CLAIM_ROLES: sorted(roles),
        CLAIM_TOKEN_VERSION: token_version,
    }
    token = jwt.encode(
        claims,
        keys.active.private_key,
        algorithm=ALGORITHM,
        headers={"kid": keys.active.kid, "typ": TOKEN_TYPE},
    )
    return AccessToken(token, datetime.fromtimestamp(expires_at, tz=now.tzinfo), jti)
