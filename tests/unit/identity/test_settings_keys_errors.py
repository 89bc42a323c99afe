"""Settings derive the domain's policies; secrets resolve (or fail) clearly; errors map."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from identity.adapters.keys import MissingSecret, resolve_sealing_key, resolve_secrets
from identity.domain.codes import CodeSettings
from identity.domain.errors import (
    CodeRejected,
    InvalidCredentials,
    PasswordRejected,
    SignInThrottled,
)
from identity.domain.hashing import Argon2Settings
from identity.domain.throttling import ACCOUNT_SIGN_IN_POLICY, CLIENT_SIGN_IN_POLICY
from identity.domain.tokens import SigningKey
from identity.entrypoints.errors import install_error_handlers, problems, to_problem
from identity.settings import IdentitySettings
from portal_shared.sealing import generate_keypair, public_key_of, seal, unseal

NOTIFIER_PRIVATE, PUBLIC_KEY = generate_keypair()


def test_defaults_are_the_domain_defaults() -> None:
    settings = IdentitySettings()
    assert settings.code_settings() == CodeSettings()
    assert settings.sign_in_policies() == (ACCOUNT_SIGN_IN_POLICY, CLIENT_SIGN_IN_POLICY)
    assert settings.argon2_settings() == Argon2Settings()
    assert settings.http_port == 8001 and settings.database_name == "identity"


def test_settings_read_the_identity_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDENTITY_CODE_TTL_SECONDS", "60")
    monkeypatch.setenv("IDENTITY_NOTIFIER_PUBLIC_KEY", PUBLIC_KEY)
    monkeypatch.setenv("PORTAL_ENV", "production")
    settings = IdentitySettings()
    assert settings.code_settings().ttl.total_seconds() == 60
    assert settings.notifier_public_key == PUBLIC_KEY
    assert not settings.test_domains_allowed


def test_development_keys_are_made_once_and_kept(tmp_path: Path) -> None:
    settings = IdentitySettings(data_dir=tmp_path, notifier_public_key=PUBLIC_KEY)
    first, second = resolve_secrets(settings), resolve_secrets(settings)
    assert first.keys.active.kid == second.keys.active.kid
    assert first.code_key == second.code_key and len(first.code_key) == 32
    assert first.sealing_key == second.sealing_key
    assert (tmp_path / "identity" / "signing_key.pem").stat().st_mode & 0o077 == 0
    assert (tmp_path / "identity" / "sealing.key").stat().st_mode & 0o077 == 0
    assert first.sealing_key not in repr(first)
    sealed = seal(first.sealing_key, first.notifier_public_key, {"user_id": "u"})
    assert unseal(NOTIFIER_PRIVATE, [public_key_of(second.sealing_key)], sealed) == {"user_id": "u"}


def production_settings(tmp_path: Path, **values: object) -> IdentitySettings:
    """Production with every secret but the sealing key (unless given)."""
    return IdentitySettings(
        environment="production",
        data_dir=tmp_path,
        notifier_public_key=PUBLIC_KEY,
        signing_key_pem=SigningKey.generate().private_pem(),
        code_hmac_key=base64.b64encode(b"k" * 32).decode(),
        **values,  # type: ignore[arg-type]
    )


def test_production_needs_the_sealing_key(tmp_path: Path) -> None:
    with pytest.raises(MissingSecret, match="IDENTITY_SEALING_PRIVATE_KEY") as raised:
        resolve_secrets(production_settings(tmp_path))
    assert "identity sealing-public-key" in str(raised.value)
    assert not (tmp_path / "identity").exists()
    private, _ = generate_keypair()
    assert resolve_secrets(production_settings(tmp_path, sealing_private_key=private)).sealing_key


def test_sealing_key_file_wins_over_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    in_file, _ = generate_keypair()
    in_value, _ = generate_keypair()
    (tmp_path / "sealing.key").write_text(in_file + "\n")
    monkeypatch.setenv("IDENTITY_SEALING_PRIVATE_KEY", in_value)
    monkeypatch.setenv("IDENTITY_SEALING_PRIVATE_KEY_FILE", str(tmp_path / "sealing.key"))
    monkeypatch.setenv("PORTAL_ENV", "production")
    assert resolve_sealing_key(IdentitySettings(data_dir=tmp_path)) == in_file


def test_invalid_sealing_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    for bad in ("not-a-key-s3cret", "czNjcmV0LWJ1dC1zaG9ydA=="):  # not base64; 18 bytes
        with pytest.raises(MissingSecret, match="not a base64 32-byte") as raised:
            resolve_sealing_key(production_settings(tmp_path, sealing_private_key=bad))
        assert "s3cret" not in str(raised.value) and bad not in str(raised.value)


def test_production_needs_every_secret(tmp_path: Path) -> None:
    settings = IdentitySettings(
        environment="production", data_dir=tmp_path, notifier_public_key=PUBLIC_KEY
    )
    with pytest.raises(MissingSecret, match="IDENTITY_SIGNING_KEY"):
        resolve_secrets(settings)
    assert not (tmp_path / "identity").exists()


def test_missing_notifier_key_says_where_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(MissingSecret, match="notifier public-key"):
        resolve_secrets(IdentitySettings(data_dir=tmp_path))
    with pytest.raises(MissingSecret, match="not a base64"):
        resolve_secrets(IdentitySettings(data_dir=tmp_path, notifier_public_key="nope"))


def test_errors_map_to_problems() -> None:
    rejected = to_problem(PasswordRejected(["too_short", "missing_digit"]))
    assert (rejected.status, rejected.code) == (422, "password_rejected")
    assert to_problem(PasswordRejected(["too_short"])).extra == {"violations": ["too_short"]}
    throttled, wrong = to_problem(SignInThrottled(7)), to_problem(InvalidCredentials())
    assert (throttled.status, throttled.code, throttled.title) == (
        wrong.status,
        wrong.code,
        wrong.title,
    )
    assert throttled.headers == {"Retry-After": "7"}
    assert to_problem(CodeRejected("account_locked", 60)).status == 429
    wrong_code = to_problem(CodeRejected("wrong"))
    assert (wrong_code.status, wrong_code.code) == (400, "code_rejected")


def test_documented_problems_carry_examples() -> None:
    documented = problems("invalid_credentials", "sign_in_throttled", "account_not_verified")
    assert set(documented) == {401, 403, 422}
    examples = documented[401]["content"]["application/problem+json"]["examples"]
    assert set(examples) == {"invalid_credentials", "sign_in_throttled"}
    assert "Retry-After" in documented[401]["headers"]
    json.dumps(documented)
    assert callable(install_error_handlers)
