"""The notifier's private key: from settings (value or file), or a persisted dev key.

Outside development a missing key is a deployment error and start-up fails with a clear
message: generating one would make every sealed part unreadable without anyone noticing.
"""

from __future__ import annotations

import os
from pathlib import Path

from portal_shared.logging import get_logger
from portal_shared.sealing import generate_keypair, public_key_of
from portal_shared.settings import read_secret

from notifier.settings import NotifierSettings

log = get_logger(__name__)


class MissingPrivateKey(RuntimeError):
    """No private key is configured and the environment is not development."""


def resolve_private_key(settings: NotifierSettings) -> str:
    """The base64 private key to open sealed parts with, validated."""
    configured = read_secret(
        settings.private_key.get_secret_value() if settings.private_key else None,
        settings.private_key_file,
    )
    if configured:
        key = configured
    elif settings.is_development:
        key = _dev_key(settings.dev_key_path)
    else:
        raise MissingPrivateKey(
            "set NOTIFIER_PRIVATE_KEY or NOTIFIER_PRIVATE_KEY_FILE (a base64 X25519 private key;"
            " its public key goes to the identity service)"
        )
    try:
        public_key_of(key)
    except Exception as exc:  # binascii / nacl errors: the message must not echo the key
        raise MissingPrivateKey("the configured notifier private key is not a valid key") from exc
    return key


def _dev_key(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    private, public = generate_keypair()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside then linked into place: two processes starting at once end up sharing
    # whichever key was linked first, and nobody reads a half-written file.
    draft = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(private + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:
        return path.read_text().strip()
    finally:
        draft.unlink()
    log.warning("dev_private_key_created", path=str(path), public_key=public)
    return private
