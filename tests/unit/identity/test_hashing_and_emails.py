import unicodedata

import pytest
from identity.domain.emails import normalise_email
from identity.domain.errors import InvalidEmail
from identity.domain.hashing import Argon2Settings, PasswordHasher

FAST = Argon2Settings(time_cost=1, memory_cost_kib=64, parallelism=1)
PASSWORD = "Gx7#mQ2!vLp9"


@pytest.fixture(scope="module")
def hasher():
    return PasswordHasher(FAST)


def test_default_parameters_are_owasp_argon2id():
    stored = PasswordHasher().hash(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_hash_verifies_only_the_same_password(hasher):
    stored = hasher.hash(PASSWORD)
    assert PASSWORD not in stored
    assert hasher.verify(stored, PASSWORD)
    assert not hasher.verify(stored, PASSWORD.lower())


def test_same_password_gets_a_fresh_salt(hasher):
    assert hasher.hash(PASSWORD) != hasher.hash(PASSWORD)


def test_unicode_forms_verify_alike(hasher):
    composed = "Été#2024xyzw"
    stored = hasher.hash(unicodedata.normalize("NFD", composed))
    assert hasher.verify(stored, composed)


def test_unreadable_stored_hash_does_not_verify(hasher):
    assert not hasher.verify("not-a-hash", PASSWORD)


def test_needs_rehash_when_parameters_change(hasher):
    old = hasher.hash(PASSWORD)
    assert not hasher.needs_rehash(old)
    stronger = PasswordHasher(Argon2Settings(time_cost=2, memory_cost_kib=64))
    assert stronger.needs_rehash(old)
    assert hasher.needs_rehash("garbage")


def test_missing_account_verifies_against_the_dummy_hash(hasher):
    assert not hasher.verify_or_dummy(None, PASSWORD)
    dummy = hasher.dummy_hash()
    assert dummy.startswith("$argon2id$") and dummy == hasher.dummy_hash()
    assert hasher.verify_or_dummy(hasher.hash(PASSWORD), PASSWORD)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("John.Smith@NATO.INT", "john.smith@nato.int"),
        ("  ann@example.org\t", "ann@example.org"),
        ("Juergen@Bücher.DE", "juergen@bücher.de"),
        ("user+tag@Example.com", "user+tag@example.com"),
    ],
)
def test_addresses_are_normalised_to_lower_case(raw, canonical):
    assert normalise_email(raw) == canonical


@pytest.mark.parametrize(
    "raw", ["", "plain", "a@b", "two@@example.org", "a b@example.org", "x@localhost"]
)
def test_invalid_addresses_raise_a_stable_error(raw):
    with pytest.raises(InvalidEmail) as caught:
        normalise_email(raw)
    assert caught.value.code == "invalid_email"


def test_special_use_domains_only_in_tests():
    with pytest.raises(InvalidEmail):
        normalise_email("dev@portal.test")
    assert normalise_email("dev@portal.test", allow_test_domains=True) == "dev@portal.test"


def test_a_local_part_beyond_ascii_is_not_supported() -> None:
    from identity.domain.emails import normalise_email
    from identity.domain.errors import EmailNotSupported

    with pytest.raises(EmailNotSupported):
        normalise_email("Jürgen@Bücher.DE")
