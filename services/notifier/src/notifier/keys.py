"""The notifier's keys: its private key and the identity service's sealing public keys.

The private key comes from settings (value or file), or in development from a persisted dev
key (``portal_shared.secrets``, the one resolver); outside development a missing key is a
deployment error and start-up fails with a clear message: generating one would make every
sealed part unreadable without anyone noticing.

Identity's public keys are never generated or guessed, in any environment: they are what makes
a sealed part trustworthy (only identity's private key makes one they open). ``make run`` and
the end-to-end tests pass them from ``identity sealing-public-key``.
"""

from __future__ import annotations

import re

from portal_shared.sealing import generate_keypair, key_bytes, public_key_of
from portal_shared.secrets import DevSecret, MissingSecret, resolve_secret
from portal_shared.settings import read_secret

from notifier.settings import NotifierSettings


class MissingPrivateKey(MissingSecret):
    """No private key is configured and the environment is not development."""


class MissingIdentityKeys(RuntimeError):
    """Identity's sealing public keys are not configured (or not valid)."""


def resolve_private_key(settings: NotifierSettings) -> str:
    """The base64 private key to open sealed parts with, validated."""
    key = resolve_secret(
        settings,
        settings.private_key,
        settings.private_key_file,
        missing="set NOTIFIER_PRIVATE_KEY or NOTIFIER_PRIVATE_KEY_FILE (a base64 X25519 private"
        " key; its public key goes to the identity service)",
        development=DevSecret(settings.dev_key_path, lambda: generate_keypair()[0]),
        error=MissingPrivateKey,
    )
    try:
        public_key_of(key)
    except Exception as exc:  # binascii / nacl errors: the message must not echo the key
        raise MissingPrivateKey("the configured notifier private key is not a valid key") from exc
    return key


def resolve_identity_public_keys(settings: NotifierSettings) -> tuple[str, ...]:
    """Identity's accepted sealing public keys, in the order tried (current first)."""
    configured = read_secret(settings.identity_public_keys, settings.identity_public_keys_file)
    keys = tuple(dict.fromkeys(k for k in re.split(r"[\s,]+", configured or "") if k))
    if not keys:
        raise MissingIdentityKeys(
            "set NOTIFIER_IDENTITY_PUBLIC_KEYS or NOTIFIER_IDENTITY_PUBLIC_KEYS_FILE: the base64"
            " X25519 public key identity seals with (print it with `identity sealing-public-key`;"
            " during a rotation the current and the previous key, comma-separated); without it"
            " no sealed part can be trusted"
        )
    for position, key in enumerate(keys, start=1):
        try:
            key_bytes(key)
        except ValueError as exc:
            raise MissingIdentityKeys(
                f"NOTIFIER_IDENTITY_PUBLIC_KEYS: key {position} is not a base64 X25519 public"
                f" key ({exc})"
            ) from None
    return keys
