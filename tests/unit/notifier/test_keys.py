"""Where the notifier's private key and identity's sealing public keys come from."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from notifier.keys import (
    MissingIdentityKeys,
    MissingPrivateKey,
    resolve_identity_public_keys,
    resolve_private_key,
)
from notifier.settings import NotifierSettings
from portal_shared.sealing import generate_keypair, public_key_of, seal, unseal

IDENTITY_PRIVATE, IDENTITY_PUBLIC = generate_keypair()


def settings(tmp_path: Path, **values: object) -> NotifierSettings:
    return NotifierSettings(data_dir=tmp_path, **values)  # type: ignore[arg-type]


def test_configured_key_is_used(tmp_path: Path) -> None:
    private, _public = generate_keypair()
    assert resolve_private_key(settings(tmp_path, private_key=private)) == private


def test_key_file_wins_over_value(tmp_path: Path) -> None:
    in_file, _ = generate_keypair()
    in_value, _ = generate_keypair()
    (tmp_path / "key").write_text(in_file + "\n")
    chosen = resolve_private_key(
        settings(tmp_path, private_key=in_value, private_key_file=tmp_path / "key")
    )
    assert chosen == in_file


def test_development_key_is_created_once_and_kept(tmp_path: Path) -> None:
    first = resolve_private_key(settings(tmp_path))
    again = resolve_private_key(settings(tmp_path))
    assert first == again
    assert (tmp_path / "notifier_dev_key").stat().st_mode & 0o777 == 0o600
    sealed = seal(IDENTITY_PRIVATE, public_key_of(first), {"user_id": "u"})
    assert unseal(again, [IDENTITY_PUBLIC], sealed) == {"user_id": "u"}


def test_no_key_outside_development_fails_fast(tmp_path: Path) -> None:
    with pytest.raises(MissingPrivateKey, match="NOTIFIER_PRIVATE_KEY"):
        resolve_private_key(settings(tmp_path, environment="production"))
    assert not (tmp_path / "notifier_dev_key").exists()


def test_invalid_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(MissingPrivateKey) as raised:
        resolve_private_key(settings(tmp_path, private_key="not-a-key-s3cret"))
    assert "s3cret" not in str(raised.value)


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SMTP_URL", "smtps://relay.example.org")
    monkeypatch.setenv("NOTIFIER_SEND_CONCURRENCY", "3")
    monkeypatch.setenv("NOTIFIER_SMTP_STARTTLS", "true")
    loaded = NotifierSettings()
    assert loaded.smtp_url == "smtps://relay.example.org"
    assert loaded.send_concurrency == 3 and loaded.smtp_starttls is True
    assert loaded.http_port == 8002 and loaded.service_name == "notifier"


def test_key_from_the_environment_opens_what_identity_sealed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    private, public = generate_keypair()
    monkeypatch.setenv("NOTIFIER_PRIVATE_KEY", private)
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("NOTIFIER_IDENTITY_PUBLIC_KEYS", IDENTITY_PUBLIC)
    loaded = NotifierSettings(data_dir=tmp_path)  # type: ignore[call-arg]
    key, senders = resolve_private_key(loaded), resolve_identity_public_keys(loaded)
    sealed = seal(IDENTITY_PRIVATE, public, {"user_id": "u", "code": "483920"})
    assert unseal(key, senders, sealed)["code"] == "483920"


def test_key_file_from_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    in_file, public = generate_keypair()
    in_value, _ = generate_keypair()
    (tmp_path / "key").write_text(in_file + "\n")
    monkeypatch.setenv("NOTIFIER_PRIVATE_KEY", in_value)
    monkeypatch.setenv("NOTIFIER_PRIVATE_KEY_FILE", str(tmp_path / "key"))
    monkeypatch.setenv("PORTAL_ENV", "production")
    key = resolve_private_key(NotifierSettings(data_dir=tmp_path))  # type: ignore[call-arg]
    assert key == in_file
    sealed = seal(IDENTITY_PRIVATE, public, {"user_id": "u"})
    assert unseal(key, [IDENTITY_PUBLIC], sealed) == {"user_id": "u"}


def test_identity_keys_are_read_in_order_without_duplicates(tmp_path: Path) -> None:
    _, previous = generate_keypair()
    keys = resolve_identity_public_keys(
        settings(tmp_path, identity_public_keys=f" {IDENTITY_PUBLIC}, {previous},{IDENTITY_PUBLIC}")
    )
    assert keys == (IDENTITY_PUBLIC, previous)


def test_identity_keys_file_wins_and_may_hold_one_key_per_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, previous = generate_keypair()
    (tmp_path / "identity.keys").write_text(f"{IDENTITY_PUBLIC}\n{previous}\n")
    _, ignored = generate_keypair()
    monkeypatch.setenv("NOTIFIER_IDENTITY_PUBLIC_KEYS", ignored)
    monkeypatch.setenv("NOTIFIER_IDENTITY_PUBLIC_KEYS_FILE", str(tmp_path / "identity.keys"))
    monkeypatch.setenv("PORTAL_ENV", "production")
    loaded = NotifierSettings(data_dir=tmp_path)  # type: ignore[call-arg]
    assert resolve_identity_public_keys(loaded) == (IDENTITY_PUBLIC, previous)


@pytest.mark.parametrize("environment", ["development", "production"])
def test_identity_keys_are_required_everywhere_and_never_made_up(
    tmp_path: Path, environment: str
) -> None:
    for missing in (None, "", " , "):
        with pytest.raises(MissingIdentityKeys, match="identity sealing-public-key"):
            resolve_identity_public_keys(
                settings(tmp_path, environment=environment, identity_public_keys=missing)
            )
    assert list(tmp_path.iterdir()) == []


def test_invalid_identity_key_is_refused_naming_its_position_only(tmp_path: Path) -> None:
    with pytest.raises(MissingIdentityKeys, match="key 2 is not") as raised:
        resolve_identity_public_keys(
            settings(tmp_path, identity_public_keys=f"{IDENTITY_PUBLIC},s3cret-nonsense")
        )
    assert "s3cret" not in str(raised.value)
    too_long = base64.b64encode(b"k" * 33).decode()
    with pytest.raises(MissingIdentityKeys, match=r"key 1 is not .* \(not a 32-byte key\)"):
        resolve_identity_public_keys(settings(tmp_path, identity_public_keys=too_long))
