"""The part of an account event only the notifier may read, and only identity may write.

A PyNaCl ``Box`` (X25519 key agreement + XSalsa20-Poly1305, random 24-byte nonce) between the
identity service's sealing private key and the notifier's public key. The part is
``base64(nonce || ciphertext)``; the ciphertext carries a Poly1305 tag under the key the two
parties agree on. So:

- every other subscriber sees opaque bytes: it can neither read the code and address nor
  change a single bit without the notifier refusing the part;
- only a holder of identity's sealing private key (or of the notifier's own private key) can
  make a part that the notifier opens with an accepted identity public key. Publishing to the
  bus, or knowing both public keys, is not enough to forge one. (An anonymous ``SealedBox``,
  used before, proved nothing about its sender: anyone could seal for the notifier's public
  key.)
- ``unseal`` tries each accepted sender key in order, so identity's key can be rotated: the
  notifier accepts the new key and the previous one until no part sealed with the old one is
  left (retries, parked messages).

Binding a part to one event is the producer's job: identity puts the event id in the payload
and the notifier refuses a part found in an event with another id (a replay). Either key holder
could have made a part (no non-repudiation), which is fine since only the notifier opens them.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Sequence
from typing import Any

from nacl.exceptions import CryptoError
from nacl.public import Box, PrivateKey, PublicKey

KEY_BYTES = 32


class UnsealError(ValueError):
    """The sealed part cannot be opened with these keys or is not what it should be."""


def generate_keypair() -> tuple[str, str]:
    """Return (private, public) keys, base64-encoded, for settings or secret files."""
    private = PrivateKey.generate()
    return _b64(bytes(private)), _b64(bytes(private.public_key))


def public_key_of(private_key_b64: str) -> str:
    """The public key of a base64 private key; ValueError (naming no key) if it is not one."""
    return _b64(bytes(PrivateKey(key_bytes(private_key_b64)).public_key))


def key_bytes(key_b64: str) -> bytes:
    """Decode a base64 32-byte X25519 key; ValueError (never echoing the key) otherwise."""
    try:
        raw = base64.b64decode(key_b64, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ValueError("not base64") from None
    if len(raw) != KEY_BYTES:
        raise ValueError(f"not a {KEY_BYTES}-byte key")
    return raw


@functools.lru_cache(maxsize=16)
def _box(private_b64: str, public_b64: str) -> Box:
    """The box between two keys, made once per pair: making one costs two X25519 operations
    (the private key's public half and the shared key), each a good part of a seal's CPU."""
    return Box(PrivateKey(key_bytes(private_b64)), PublicKey(key_bytes(public_b64)))


def seal(sender_private_b64: str, recipient_public_b64: str, payload: dict[str, Any]) -> str:
    """Encrypt and authenticate ``payload`` from the sender's key to the recipient's."""
    box = _box(sender_private_b64, recipient_public_b64)
    return _b64(box.encrypt(json.dumps(payload, separators=(",", ":")).encode()))


def unseal(
    recipient_private_b64: str, sender_public_keys_b64: Sequence[str], sealed: str
) -> dict[str, Any]:
    """Open a part sealed for our key by one of the accepted sender keys (tried in order)."""
    if isinstance(sender_public_keys_b64, str):  # a lone key would be tried letter by letter
        raise TypeError("sender_public_keys_b64 must be a sequence of keys, not one string")
    try:
        key_bytes(recipient_private_b64)
        raw = base64.b64decode(sealed, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise UnsealError("sealed part cannot be opened: not base64") from None
    plaintext = None
    for sender in sender_public_keys_b64:
        try:
            plaintext = _box(recipient_private_b64, sender).decrypt(raw)
        except (CryptoError, ValueError, TypeError):
            continue
        break
    if plaintext is None:
        raise UnsealError("sealed part cannot be opened with our key and an accepted sender key")
    try:
        opened = json.loads(plaintext)
    except ValueError:
        raise UnsealError("sealed part is not JSON") from None
    if not isinstance(opened, dict):
        raise UnsealError("sealed part is not an object")
    return opened


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
