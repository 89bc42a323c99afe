"""The part of an account event only the notifier may read: sealed with its public key.

A PyNaCl sealed box (X25519 + XSalsa20-Poly1305) encrypts to the notifier's public key with
an ephemeral sender key, so every other subscriber sees opaque bytes: it can neither read the
code and address nor forge a part the notifier would accept as coming from the producer of the
event (the notifier additionally checks the sealed part names the event's user id).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox


class UnsealError(ValueError):
    """The sealed part cannot be opened with this key or is not what it should be."""


def generate_keypair() -> tuple[str, str]:
    """Return (private, public) keys, base64-encoded, for settings or secret files."""
    private = PrivateKey.generate()
    return _b64(bytes(private)), _b64(bytes(private.public_key))


def public_key_of(private_key_b64: str) -> str:
    return _b64(bytes(PrivateKey(base64.b64decode(private_key_b64)).public_key))


def seal(public_key_b64: str, payload: dict[str, Any]) -> str:
    box = SealedBox(PublicKey(base64.b64decode(public_key_b64)))
    return _b64(box.encrypt(json.dumps(payload, separators=(",", ":")).encode()))


def unseal(private_key_b64: str, sealed: str) -> dict[str, Any]:
    try:
        box = SealedBox(PrivateKey(base64.b64decode(private_key_b64)))
        opened = json.loads(box.decrypt(base64.b64decode(sealed)))
    except (CryptoError, ValueError, TypeError) as exc:
        raise UnsealError("sealed part cannot be opened") from exc
    if not isinstance(opened, dict):
        raise UnsealError("sealed part is not an object")
    return opened


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
