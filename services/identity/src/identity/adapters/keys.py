"""The identity service's secrets, resolved at start-up from settings (value or file).

In development (and tests) a missing signing key, code HMAC key or sealing key is generated
once and kept under ``<data_dir>/identity/`` so tokens, codes and the notifier's trust survive
restarts; anywhere else a missing secret stops the start with a clear message. The notifier's
public key is never generated: without the matching private key no email could be read, so it
is always required (``notifier public-key`` prints it). The sealing key authenticates the
sealed parts to the notifier, which opens only parts sealed with a key it accepts
(``identity sealing-public-key`` prints the public key to give it). Every secret goes through
the one shared resolver, ``portal_shared.secrets``.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from portal_shared.sealing import generate_keypair, key_bytes, public_key_of
from portal_shared.secrets import DevSecret, MissingSecret, resolve_secret
from portal_shared.settings import read_secret
from pydantic import SecretStr

from identity.domain.tokens import KeySet, SigningKey
from identity.settings import IdentitySettings

MIN_CODE_KEY_BYTES = 32


@dataclass(frozen=True)
class IdentitySecrets:
    keys: KeySet
    code_key: bytes = field(repr=False)
    sealing_key: str = field(repr=False)
    notifier_public_key: str


def resolve_secrets(settings: IdentitySettings) -> IdentitySecrets:
    return IdentitySecrets(
        keys=_key_set(settings),
        code_key=_code_key(settings),
        sealing_key=resolve_sealing_key(settings),
        notifier_public_key=_notifier_public_key(settings),
    )


def _secret_or_dev(
    settings: IdentitySettings,
    value: SecretStr | None,
    file: Path | None,
    *,
    dev_file: str,
    make: Callable[[], str],
    missing: str,
) -> str:
    """The configured secret; in development a persisted generated one; else ``missing``."""
    development = DevSecret(settings.dev_key_dir / dev_file, make)
    return resolve_secret(settings, value, file, missing=missing, development=development)


def _key_set(settings: IdentitySettings) -> KeySet:
    active = _secret_or_dev(
        settings,
        settings.signing_key_pem,
        settings.signing_key_file,
        dev_file="signing_key.pem",
        make=lambda: SigningKey.generate().private_pem(),
        missing="set IDENTITY_SIGNING_KEY_PEM or IDENTITY_SIGNING_KEY_FILE (an Ed25519 PKCS#8 PEM,"
        " e.g. `openssl genpkey -algorithm ed25519`)",
    )
    previous_pem = settings.previous_signing_key_pem
    previous = read_secret(
        previous_pem.get_secret_value() if previous_pem else None,
        settings.previous_signing_key_file,
    )
    try:
        return KeySet.from_pems(active, previous or None)
    except ValueError as exc:  # the message names no key material
        raise MissingSecret(f"the configured signing keys are not usable: {exc}") from None


def _code_key(settings: IdentitySettings) -> bytes:
    configured = _secret_or_dev(
        settings,
        settings.code_hmac_key,
        settings.code_hmac_key_file,
        dev_file="code_hmac.key",
        make=lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
        missing="set IDENTITY_CODE_HMAC_KEY or IDENTITY_CODE_HMAC_KEY_FILE (base64, >= 32 bytes)",
    )
    try:
        key = base64.b64decode(configured, validate=True)
    except (binascii.Error, ValueError):
        key = configured.encode()
    if len(key) < MIN_CODE_KEY_BYTES:
        raise MissingSecret(f"the code HMAC key must hold at least {MIN_CODE_KEY_BYTES} bytes")
    return key


def resolve_sealing_key(settings: IdentitySettings) -> str:
    """The base64 X25519 private key identity seals the notifier's parts with, validated."""
    configured = _secret_or_dev(
        settings,
        settings.sealing_private_key,
        settings.sealing_private_key_file,
        dev_file="sealing.key",
        make=lambda: generate_keypair()[0],
        missing="set IDENTITY_SEALING_PRIVATE_KEY or IDENTITY_SEALING_PRIVATE_KEY_FILE (a base64"
        " X25519 private key; `identity sealing-public-key` prints its public key for"
        " the notifier's NOTIFIER_IDENTITY_PUBLIC_KEYS)",
    )
    try:
        public_key_of(configured)
    except ValueError:  # the message must not echo the key
        raise MissingSecret(
            "IDENTITY_SEALING_PRIVATE_KEY is not a base64 32-byte X25519 private key"
        ) from None
    return configured


def _notifier_public_key(settings: IdentitySettings) -> str:
    key = read_secret(settings.notifier_public_key, settings.notifier_public_key_file)
    if not key:
        raise MissingSecret(
            "set IDENTITY_NOTIFIER_PUBLIC_KEY or IDENTITY_NOTIFIER_PUBLIC_KEY_FILE: the base64"
            " X25519 public key of the notifier (print it with `notifier public-key`); without"
            " it no verification email could be read"
        )
    try:
        key_bytes(key)
    except ValueError:
        raise MissingSecret("IDENTITY_NOTIFIER_PUBLIC_KEY is not a base64 32-byte key") from None
    return key


__all__ = ["IdentitySecrets", "MissingSecret", "resolve_sealing_key", "resolve_secrets"]
