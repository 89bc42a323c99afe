"""The one secrets resolver: configured value or file, else a development secret, never in
production."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from portal_shared.secrets import DevSecret, MissingSecret, resolve_secret
from portal_shared.settings import ServiceSettings
from pydantic import SecretStr


class _Refused(MissingSecret):
    pass


def _settings(environment: str) -> ServiceSettings:
    return ServiceSettings(environment=environment)


def test_the_configured_value_or_file_wins(tmp_path: Path) -> None:
    dev = DevSecret(tmp_path / "dev.key", lambda: "generated")
    secret_file = tmp_path / "mounted"
    secret_file.write_text("from-file\n")
    for environment in ("development", "production"):
        settings = _settings(environment)
        value = SecretStr("from-value")
        assert resolve_secret(settings, value, None, missing="m", development=dev) == "from-value"
        assert resolve_secret(settings, value, secret_file, missing="m") == "from-file"
    assert not (tmp_path / "dev.key").exists()


def test_development_persists_one_generated_secret(tmp_path: Path) -> None:
    made: list[str] = []

    def make() -> str:
        made.append(f"secret-{len(made)}")
        return made[-1]

    dev = DevSecret(tmp_path / "keys" / "dev.key", make)
    for environment in ("development", "test"):
        settings = _settings(environment)
        assert resolve_secret(settings, None, None, missing="m", development=dev) == "secret-0"
    assert made == ["secret-0"]
    assert os.stat(tmp_path / "keys" / "dev.key").st_mode & 0o777 == 0o600
    assert list((tmp_path / "keys").iterdir()) == [tmp_path / "keys" / "dev.key"]


def test_production_refuses_a_missing_or_development_secret(tmp_path: Path) -> None:
    production = _settings("production")
    generated = DevSecret(tmp_path / "dev.key", lambda: "generated")
    fixed = DevSecret(fixed="well-known")
    with pytest.raises(_Refused, match="set X_SECRET"):
        resolve_secret(
            production, None, None, missing="set X_SECRET", development=generated, error=_Refused
        )
    assert not (tmp_path / "dev.key").exists()  # nothing generated outside development
    with pytest.raises(_Refused, match="refused outside development"):
        resolve_secret(
            production, "well-known", None, missing="x", development=fixed, error=_Refused
        )
    resolve_secret(_settings("development"), None, None, missing="x", development=generated)
    with pytest.raises(MissingSecret, match="refused outside development"):
        resolve_secret(production, None, tmp_path / "dev.key", missing="x", development=generated)
    assert resolve_secret(production, "s3cr3t", None, missing="x", development=fixed) == "s3cr3t"
    assert resolve_secret(_settings("development"), None, None, missing="x", development=fixed) == (
        "well-known"
    )


def test_a_secret_with_no_development_default_is_always_required() -> None:
    for environment in ("development", "production"):
        with pytest.raises(MissingSecret, match="set PEER_KEY"):
            resolve_secret(_settings(environment), None, None, missing="set PEER_KEY")
