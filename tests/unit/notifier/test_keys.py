"""Where the notifier's private key comes from."""

from __future__ import annotations

from pathlib import Path

import pytest
from notifier.keys import MissingPrivateKey, resolve_private_key
from notifier.settings import NotifierSettings
from portal_shared.sealing import generate_keypair, public_key_of, seal, unseal


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
    sealed = seal(public_key_of(first), {"user_id": "u"})
    assert unseal(again, sealed) == {"user_id": "u"}


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
    key = resolve_private_key(NotifierSettings(data_dir=tmp_path))  # type: ignore[call-arg]
    assert unseal(key, seal(public, {"user_id": "u", "code": "483920"}))["code"] == "483920"


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
    assert unseal(key, seal(public, {"user_id": "u"})) == {"user_id": "u"}
