"""The sealed part: only the notifier reads it, and it opens only if identity's key sealed it."""

from __future__ import annotations

import base64

import pytest
from nacl.public import PublicKey, SealedBox
from portal_shared.sealing import UnsealError, generate_keypair, public_key_of, seal, unseal

PAYLOAD = {"user_id": "usr_1", "email": "jane@example.org", "code": "483920"}
NOTIFIER_PRIVATE, NOTIFIER_PUBLIC = generate_keypair()
IDENTITY_PRIVATE, IDENTITY_PUBLIC = generate_keypair()


def test_round_trip_hides_the_address_and_code() -> None:
    sealed = seal(IDENTITY_PRIVATE, NOTIFIER_PUBLIC, PAYLOAD)
    assert "483920" not in sealed and "jane" not in sealed
    assert "483920" not in base64.b64decode(sealed).decode(errors="replace")
    assert unseal(NOTIFIER_PRIVATE, [IDENTITY_PUBLIC], sealed) == PAYLOAD


def test_every_seal_is_different() -> None:  # random nonce: equal payloads look unrelated
    assert seal(IDENTITY_PRIVATE, NOTIFIER_PUBLIC, PAYLOAD) != seal(
        IDENTITY_PRIVATE, NOTIFIER_PUBLIC, PAYLOAD
    )


def test_a_part_sealed_with_another_sender_key_is_refused() -> None:
    """Anyone on the bus knows the notifier's public key: that must not be enough."""
    intruder_private, _ = generate_keypair()
    forged = seal(intruder_private, NOTIFIER_PUBLIC, {**PAYLOAD, "email": "victim@example.org"})
    with pytest.raises(UnsealError, match="accepted sender key"):
        unseal(NOTIFIER_PRIVATE, [IDENTITY_PUBLIC], forged)


def test_an_anonymous_sealed_box_is_refused() -> None:
    """The format used before: encrypted to the notifier, from nobody in particular."""
    box = SealedBox(PublicKey(base64.b64decode(NOTIFIER_PUBLIC)))
    forged = base64.b64encode(box.encrypt(b'{"user_id":"usr_1","email":"x@evil.test"}')).decode()
    with pytest.raises(UnsealError):
        unseal(NOTIFIER_PRIVATE, [IDENTITY_PUBLIC], forged)


def test_only_the_intended_recipient_opens_it() -> None:
    other_private, _ = generate_keypair()
    sealed = seal(IDENTITY_PRIVATE, NOTIFIER_PUBLIC, PAYLOAD)
    with pytest.raises(UnsealError):
        unseal(other_private, [IDENTITY_PUBLIC], sealed)


def test_rotation_accepts_the_previous_key_and_then_drops_it() -> None:
    new_private, new_public = generate_keypair()
    by_previous = seal(IDENTITY_PRIVATE, NOTIFIER_PUBLIC, PAYLOAD)
    by_current = seal(new_private, NOTIFIER_PUBLIC, {**PAYLOAD, "code": "111111"})
    during = [new_public, IDENTITY_PUBLIC]
    assert unseal(NOTIFIER_PRIVATE, during, by_previous) == PAYLOAD
    assert unseal(NOTIFIER_PRIVATE, during, by_current)["code"] == "111111"
    assert unseal(NOTIFIER_PRIVATE, (new_public,), by_current)["code"] == "111111"
    with pytest.raises(UnsealError):
        unseal(NOTIFIER_PRIVATE, [new_public], by_previous)


@pytest.mark.parametrize("position", [0, 10, 24, 40, -1])  # nonce, ciphertext, tag
def test_a_tampered_part_is_refused(position: int) -> None:
    raw = bytearray(base64.b64decode(seal(IDENTITY_PRIVATE, NOTIFIER_PUBLIC, PAYLOAD)))
    raw[position] ^= 0x01
    with pytest.raises(UnsealError):
        unseal(NOTIFIER_PRIVATE, [IDENTITY_PUBLIC], base64.b64encode(bytes(raw)).decode())


@pytest.mark.parametrize(
    "garbage",
    ["", "not base64!", "AAAA", base64.b64encode(b"x" * 100).decode(), "🔑", "=" * 8],
)
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(UnsealError):
        unseal(NOTIFIER_PRIVATE, [IDENTITY_PUBLIC], garbage)


def test_no_accepted_key_refuses_everything() -> None:
    with pytest.raises(UnsealError):
        unseal(NOTIFIER_PRIVATE, [], seal(IDENTITY_PRIVATE, NOTIFIER_PUBLIC, PAYLOAD))


def test_a_sealed_part_that_is_not_an_object_is_refused() -> None:
    sealed = seal(IDENTITY_PRIVATE, NOTIFIER_PUBLIC, ["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(UnsealError, match="not an object"):
        unseal(NOTIFIER_PRIVATE, [IDENTITY_PUBLIC], sealed)


def test_a_lone_key_string_is_a_programming_error() -> None:
    sealed = seal(IDENTITY_PRIVATE, NOTIFIER_PUBLIC, PAYLOAD)
    with pytest.raises(TypeError):
        unseal(NOTIFIER_PRIVATE, IDENTITY_PUBLIC, sealed)


def test_bad_keys_are_refused_without_echoing_them() -> None:
    secret = "not-a-key-s3cret"
    with pytest.raises(ValueError) as raised:
        public_key_of(secret)
    assert "s3cret" not in str(raised.value)
    with pytest.raises(ValueError) as raised:
        seal(base64.b64encode(b"s3cret").decode(), NOTIFIER_PUBLIC, PAYLOAD)
    assert "s3cret" not in str(raised.value)
    assert public_key_of(IDENTITY_PRIVATE) == IDENTITY_PUBLIC
