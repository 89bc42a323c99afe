import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from portal_shared.auth import (
    AccessTokenVerifier,
    JwksCache,
    KeysUnavailable,
    Principal,
    TokenError,
    httpx_jwks_fetch,
    public_keys_from_jwks,
    verify_access_token,
)

ISSUER, AUDIENCE = "https://portal.example/identity", "portal"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
KID = "key-1"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwk_of(key: Ed25519PrivateKey, kid: str = KID) -> dict[str, str]:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url(raw),
        "kid": kid,
        "use": "sig",
        "alg": "EdDSA",
    }


def claims(now: datetime = NOW, **overrides: Any) -> dict[str, Any]:
    iat = int(now.timestamp())
    base = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": "u1", "iat": iat, "exp": iat + 900,
        "jti": "j1", "email_verified": True, "roles": ["user"], "tv": 0,
    }  # fmt: skip
    return base | overrides


def sign(key: Any, payload: dict[str, Any], kid: str = KID, alg: str = "EdDSA") -> str:
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid, "typ": "at+jwt"})


def hand_made(header: dict[str, Any], payload: dict[str, Any], secret: bytes | None) -> str:
    signing_input = ".".join(b64url(json.dumps(part).encode()) for part in (header, payload))
    signature = b""
    if secret is not None:
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def keys(key):
    return public_keys_from_jwks({"keys": [jwk_of(key)]})


def verify(token: str, keys, now: datetime = NOW, leeway: timedelta = timedelta(0)):
    return verify_access_token(
        token, keys, issuer=ISSUER, audience=AUDIENCE, now=now, leeway=leeway
    )


def reason_of(token: str, keys, now: datetime = NOW) -> str:
    with pytest.raises(TokenError) as caught:
        verify(token, keys, now)
    return caught.value.reason


def test_valid_token_gives_a_principal(key, keys):
    token = sign(key, claims(roles=["user", "editor"], tv=4))
    assert verify(token, keys) == Principal("u1", True, frozenset({"user", "editor"}), 4)


def test_token_signed_by_another_key_is_invalid(keys):
    assert reason_of(sign(Ed25519PrivateKey.generate(), claims()), keys) == "token_invalid"


def test_tampered_payload_is_invalid(key, keys):
    header, _, signature = sign(key, claims()).split(".")
    forged = b64url(json.dumps(claims(roles=["user", "editor"])).encode())
    assert reason_of(f"{header}.{forged}.{signature}", keys) == "token_invalid"


def test_alg_none_is_refused(keys):
    token = hand_made({"alg": "none", "kid": KID, "typ": "at+jwt"}, claims(), None)
    assert reason_of(token, keys) == "token_invalid"


@pytest.mark.parametrize("secret_form", ["x", "raw", "pem"])
def test_hs256_signed_with_the_public_key_is_refused(key, keys, secret_form):
    public = key.public_key()
    secret = {
        "x": jwk_of(key)["x"].encode(),
        "raw": public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
        "pem": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    }[secret_form]
    token = hand_made({"alg": "HS256", "kid": KID, "typ": "at+jwt"}, claims(), secret)
    assert reason_of(token, keys) == "token_invalid"


def test_rs256_is_refused(keys):
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert reason_of(sign(rsa_key, claims(), alg="RS256"), keys) == "token_invalid"


def test_unknown_kid(key, keys):
    assert reason_of(sign(key, claims(), kid="other"), keys) == "unknown_key"


def test_missing_kid_or_type_is_invalid(key, keys):
    no_kid = jwt.encode(claims(), key, algorithm="EdDSA", headers={"typ": "at+jwt"})
    no_typ = jwt.encode(claims(), key, algorithm="EdDSA", headers={"kid": KID})
    assert reason_of(no_kid, keys) == reason_of(no_typ, keys) == "token_invalid"
    assert reason_of("not.a.jwt", keys) == reason_of("", keys) == "token_invalid"


def test_expiry_boundary(key, keys):
    token = sign(key, claims())
    expires = NOW + timedelta(seconds=900)
    assert verify(token, keys, expires - timedelta(seconds=1)).user_id == "u1"
    assert reason_of(token, keys, expires) == "token_expired"
    lenient = verify(token, keys, expires + timedelta(seconds=10), timedelta(seconds=30))
    assert lenient.user_id == "u1"


def test_token_from_the_future_is_invalid(key, keys):
    token = sign(key, claims(NOW + timedelta(minutes=5)))
    assert reason_of(token, keys) == "token_invalid"


@pytest.mark.parametrize(
    "overrides",
    [
        {"iss": "https://evil.example"},
        {"aud": "other-service"},
        {"tv": "1"},
        {"tv": True},
        {"roles": "user"},
        {"roles": [1]},
        {"email_verified": "yes"},
        {"sub": ""},
        {"exp": "soon"},
    ],
)
def test_wrong_claims_are_invalid(key, keys, overrides):
    assert reason_of(sign(key, claims(**overrides)), keys) == "token_invalid"


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": ["other-service"]},
        {"aud": [AUDIENCE, 1]},
        {"aud": {"x": AUDIENCE}},
        {"iss": None},
        {"iss": [ISSUER]},
        {"jti": 7},
        {"sub": ["u1"]},
        {"nbf": int(NOW.timestamp()) + 3600},
        {"nbf": "later"},
        {"nbf": float("nan")},  # json: NaN; PyJWT's int() refused it, as +-Infinity
        {"nbf": float("-inf")},
        {"nbf": 10**400},
    ],
)
def test_claims_pyjwt_refused_are_refused(key, keys, overrides):
    """The checks ``jwt.decode`` made before verification was done here directly (signed by
    hand: ``jwt.encode`` refuses some of these claims); ``nbf`` is now compared with the
    caller's ``now`` like ``exp`` and ``iat`` (PyJWT compared it with the system clock)."""
    assert reason_of(signed_raw(key, json.dumps(claims(**overrides)).encode()), keys) == (
        "token_invalid"
    )


def test_an_expiry_too_large_for_a_float_is_compared_not_an_error(key, keys):
    """A signed ``exp`` of 10**400 (JSON integers have no bound) is far in the future: the
    token verifies, as under PyJWT, instead of raising OverflowError (a 500 at the API);
    an ``iat`` that large is in the future, so invalid."""
    far = 10**400
    assert verify(signed_raw(key, json.dumps(claims(exp=far)).encode()), keys).user_id == "u1"
    assert reason_of(signed_raw(key, json.dumps(claims(iat=far)).encode()), keys) == (
        "token_invalid"
    )


def test_an_audience_list_naming_ours_and_a_past_nbf_are_accepted(key, keys):
    token = sign(key, claims(aud=["other", AUDIENCE], nbf=int(NOW.timestamp()) - 60))
    assert verify(token, keys).user_id == "u1"


def signed_raw(key: Ed25519PrivateKey, payload: bytes) -> str:
    header = b64url(json.dumps({"alg": "EdDSA", "typ": "at+jwt", "kid": KID}).encode())
    signing_input = f"{header}.{b64url(payload)}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode()))}"


@pytest.mark.parametrize("payload", [b"[1, 2]", b"not json", b"\xff\xfe"])
def test_a_signed_payload_that_is_not_a_json_object_is_invalid(key, keys, payload):
    assert reason_of(signed_raw(key, payload), keys) == "token_invalid"


@pytest.mark.parametrize("signature", ["", "!!!", "a", b64url(b"x" * 64)])
def test_a_malformed_or_wrong_signature_is_invalid(key, keys, signature):
    signing_input = sign(key, claims()).rpartition(".")[0]
    assert reason_of(f"{signing_input}.{signature}", keys) == "token_invalid"


@pytest.mark.parametrize("missing", ["sub", "exp", "iat", "iss", "aud", "jti", "tv", "roles"])
def test_missing_claims_are_invalid(key, keys, missing):
    payload = claims()
    del payload[missing]
    assert reason_of(sign(key, payload), keys) == "token_invalid"


def test_jwks_parsing_keeps_only_public_ed25519_signing_keys(key):
    rsa_jwk = {"kty": "RSA", "kid": "rsa", "n": "AQAB", "e": "AQAB"}
    private_jwk = jwk_of(key, "private") | {"d": "secret"}
    enc_jwk = jwk_of(key, "enc") | {"use": "enc"}
    no_kid = {k: v for k, v in jwk_of(key).items() if k != "kid"}
    broken = jwk_of(key, "broken") | {"x": "short"}
    document = {"keys": [rsa_jwk, private_jwk, enc_jwk, no_kid, broken, jwk_of(key, "good")]}
    assert set(public_keys_from_jwks(document)) == {"good"}
    assert public_keys_from_jwks({}) == {}


def test_verifier_needs_exactly_one_key_source(key):
    with pytest.raises(ValueError):
        AccessTokenVerifier(issuer=ISSUER, audience=AUDIENCE)


async def test_static_verifier(key):
    verifier = AccessTokenVerifier(
        issuer=ISSUER, audience=AUDIENCE, jwks={"keys": [jwk_of(key)]}, clock=lambda: NOW
    )
    assert (await verifier.verify(sign(key, claims()))).user_id == "u1"


class FakeJwks:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.calls = 0
        self.fail = False
        self.clock = 1000.0

    async def fetch(self) -> dict[str, Any]:
        self.calls += 1
        if self.fail:
            raise httpx.ConnectError("identity is down")
        return self.document

    def cache(self) -> JwksCache:
        return JwksCache(
            self.fetch,
            ttl=timedelta(minutes=10),
            min_refetch_interval=timedelta(seconds=30),
            monotonic=lambda: self.clock,
        )


async def test_cache_fetches_once_within_the_ttl(key):
    fake = FakeJwks({"keys": [jwk_of(key)]})
    cache = fake.cache()
    assert set(await cache.keys_for(KID)) == {KID}
    fake.clock += 599
    await cache.keys_for(KID)
    assert fake.calls == 1
    fake.clock += 1
    await cache.keys_for(KID)
    assert fake.calls == 2


async def test_unknown_kid_refetches_at_most_once_per_interval(key):
    fake = FakeJwks({"keys": [jwk_of(key)]})
    cache = fake.cache()
    await cache.keys_for(KID)
    fake.clock += 10
    for _ in range(5):
        await cache.keys_for("rotated-in")
    assert fake.calls == 1
    new_key = Ed25519PrivateKey.generate()
    fake.document = {"keys": [jwk_of(new_key, "rotated-in"), jwk_of(key)]}
    fake.clock += 20
    assert "rotated-in" in await cache.keys_for("rotated-in")
    assert fake.calls == 2


async def test_failed_refetch_keeps_the_known_keys(key):
    fake = FakeJwks({"keys": [jwk_of(key)]})
    cache = fake.cache()
    await cache.keys_for(KID)
    fake.fail = True
    fake.clock += 3600
    assert set(await cache.keys_for(KID)) == {KID}


async def test_first_fetch_failure_propagates():
    fake = FakeJwks({"keys": []})
    fake.fail = True
    with pytest.raises(httpx.HTTPError):
        await fake.cache().keys_for(KID)


async def test_without_keys_a_failure_is_unavailable_then_refetched(key):
    # identity down when the first token arrives: never an empty key set (401 unknown_key)
    fake = FakeJwks({"keys": [jwk_of(key)]})
    fake.fail = True
    cache = fake.cache()
    with pytest.raises(httpx.HTTPError):
        await cache.keys_for(KID)
    fake.clock += 0.5
    with pytest.raises(KeysUnavailable):
        await cache.keys_for(KID)
    assert fake.calls == 1
    fake.fail = False
    fake.clock += 0.5
    assert set(await cache.keys_for(KID)) == {KID}
    assert fake.calls == 2


async def test_verifier_over_http_follows_a_rotation(key):
    served = {"keys": [jwk_of(key)]}
    requests: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(str(request.url))
        return httpx.Response(200, json=served)

    url = "http://identity/.well-known/jwks.json"
    clock = {"now": 0.0}
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        cache = JwksCache(httpx_jwks_fetch(client, url), monotonic=lambda: clock["now"])
        verifier = AccessTokenVerifier(
            issuer=ISSUER, audience=AUDIENCE, cache=cache, clock=lambda: NOW
        )
        assert (await verifier.verify(sign(key, claims()))).user_id == "u1"
        new_key = Ed25519PrivateKey.generate()
        served = {"keys": [jwk_of(new_key, "key-2"), jwk_of(key)]}
        clock["now"] = 31.0
        assert (await verifier.verify(sign(new_key, claims(), kid="key-2"))).user_id == "u1"
        with pytest.raises(TokenError) as caught:
            await verifier.verify(sign(new_key, claims(), kid="key-3"))
        assert caught.value.reason == "unknown_key"
    assert requests == [url, url]


async def test_http_fetch_raises_on_error_status():
    transport = httpx.MockTransport(lambda request: httpx.Response(503))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.HTTPStatusError):
            await httpx_jwks_fetch(client, "http://identity/jwks")()
