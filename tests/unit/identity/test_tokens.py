import base64
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from identity.domain.tokens import (
    AccessTokenSettings,
    KeySet,
    SigningKey,
    issue_access_token,
    thumbprint,
)
from portal_shared.auth import AccessTokenVerifier, Principal, TokenError

SETTINGS = AccessTokenSettings(issuer="https://portal.example/identity", audience="portal")
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def token_for(keys: KeySet, now: datetime = NOW, **overrides):
    claims = {"user_id": "u1", "email_verified": True, "roles": {"user", "editor"}}
    claims |= overrides
    return issue_access_token(keys, token_version=3, now=now, settings=SETTINGS, **claims)


def verifier(keys: KeySet, now: datetime = NOW) -> AccessTokenVerifier:
    return AccessTokenVerifier(
        issuer=SETTINGS.issuer, audience=SETTINGS.audience, jwks=keys.jwks(), clock=lambda: now
    )


def test_access_token_has_the_agreed_header_and_claims():
    keys = KeySet.generate_dev()
    issued = token_for(keys)
    header = jwt.get_unverified_header(issued.token)
    assert header == {"alg": "EdDSA", "kid": keys.active.kid, "typ": "at+jwt"}
    claims = jwt.decode(issued.token, options={"verify_signature": False})
    assert claims["sub"] == "u1" and claims["tv"] == 3 and claims["email_verified"] is True
    assert claims["roles"] == ["editor", "user"]
    assert claims["iss"] == SETTINGS.issuer and claims["aud"] == SETTINGS.audience
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert claims["jti"] == issued.jti
    assert claims["client_id"] == "portal"  # RFC 9068 §2.2 requires it with typ at+jwt
    assert issued.expires_at == NOW + timedelta(minutes=15)


def test_every_token_has_its_own_jti():
    keys = KeySet.generate_dev()
    assert token_for(keys).jti != token_for(keys).jti


def test_issued_token_verifies_with_the_shared_verifier():
    keys = KeySet.generate_dev()
    principal = verifier(keys).verify_static(token_for(keys).token)
    assert principal == Principal("u1", True, frozenset({"user", "editor"}), 3)


def test_jwks_publishes_only_public_okp_keys():
    keys = KeySet.generate_dev().rotated(SigningKey.generate())
    document = keys.jwks()
    assert [jwk["kid"] for jwk in document["keys"]] == [keys.active.kid, keys.previous.kid]
    for jwk in document["keys"]:
        assert set(jwk) == {"kty", "crv", "x", "kid", "use", "alg"}
        assert (jwk["kty"], jwk["crv"], jwk["use"], jwk["alg"]) == (
            "OKP",
            "Ed25519",
            "sig",
            "EdDSA",
        )


def test_kid_is_the_rfc_7638_thumbprint():
    # RFC 8037, appendix A.3: thumbprint of the example Ed25519 key.
    x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "="))
    assert thumbprint(public) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_keys_load_from_pem_with_a_stable_kid():
    key = SigningKey.generate()
    loaded = SigningKey.from_pem(key.private_pem())
    assert loaded.kid == key.kid
    assert SigningKey.from_pem(key.private_pem(), kid="2025-03").kid == "2025-03"
    assert "PRIVATE" not in repr(loaded)


def test_non_ed25519_pem_is_refused():
    other = ec.generate_private_key(ec.SECP256R1())
    pem = other.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    with pytest.raises(ValueError, match="Ed25519"):
        SigningKey.from_pem(pem)


def test_key_set_from_pems():
    old, new = SigningKey.generate(), SigningKey.generate()
    keys = KeySet.from_pems(new.private_pem(), old.private_pem())
    assert (keys.active.kid, keys.previous.kid) == (new.kid, old.kid)
    with pytest.raises(ValueError):
        KeySet(new, new)


def test_rotation_keeps_old_tokens_valid_until_the_previous_key_is_dropped():
    keys = KeySet.generate_dev()
    old_token = token_for(keys).token
    rotated = keys.rotated(SigningKey.generate())
    new_token = token_for(rotated).token
    assert jwt.get_unverified_header(new_token)["kid"] == rotated.active.kid
    assert verifier(rotated).verify_static(old_token).user_id == "u1"
    assert verifier(rotated).verify_static(new_token).user_id == "u1"

    dropped = rotated.without_previous()
    assert verifier(dropped).verify_static(new_token).user_id == "u1"
    with pytest.raises(TokenError) as caught:
        verifier(dropped).verify_static(old_token)
    assert caught.value.reason == "unknown_key"


def test_token_expires_after_fifteen_minutes():
    keys = KeySet.generate_dev()
    token = token_for(keys).token
    later = NOW + timedelta(minutes=15, seconds=31)  # past the verifier's 30 s leeway
    with pytest.raises(TokenError) as caught:
        verifier(keys, later).verify_static(token)
    assert caught.value.reason == "token_expired"
