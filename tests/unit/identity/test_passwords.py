import gzip
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from identity.domain.errors import PasswordRejected
from identity.domain.passwords import (
    COMMON_PASSWORDS_RESOURCE,
    MAX_LENGTH,
    MIN_LENGTH,
    PasswordRule,
    check_password,
    common_passwords,
    is_common_password,
    password_violations,
)

STRONG = "Gx7#mQ2!vLp9"  # exactly 12 characters, every class, nothing common
EMAIL = "john.smith@nato.int"


def violations(password: str, email: str | None = EMAIL) -> list[str]:
    return [rule.value for rule in password_violations(password, email)]


def padded(length: int) -> str:
    filler = "kWz4%rTq"
    return (STRONG + filler * 20)[:length]


def test_strong_password_is_accepted():
    assert len(STRONG) == MIN_LENGTH
    assert violations(STRONG) == []
    check_password(STRONG, EMAIL)


def test_eleven_characters_are_too_short():
    assert violations(STRONG[:11]) == ["too_short"]


def test_128_characters_are_accepted_and_129_too_long():
    assert violations(padded(MAX_LENGTH)) == []
    assert violations(padded(MAX_LENGTH + 1)) == ["too_long"]


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("gx7#mq2!vlp9", "missing_uppercase"),
        ("GX7#MQ2!VLP9", "missing_lowercase"),
        ("Gxk#mQz!vLpw", "missing_digit"),
        ("Gx7kmQ2zvLp9", "missing_symbol"),
    ],
)
def test_each_missing_class_is_reported(password, rule):
    assert violations(password) == [rule]


@pytest.mark.parametrize(
    "space",
    [" ", "\t", "\n", "\u00a0", "\u2003", "\u3000", "\u200b", "\ufeff"],
    ids=["space", "tab", "newline", "nbsp", "em-space", "ideographic", "zwsp", "bom"],
)
def test_any_whitespace_is_rejected(space):
    assert "contains_space" in violations(STRONG[:6] + space + STRONG[6:])


def test_spaces_do_not_count_as_symbols():
    assert violations("Gx7kmQ2 vLp9z") == ["contains_space", "missing_symbol"]


def test_control_characters_are_invalid_and_not_symbols():
    assert violations("Gx7kmQ2\x00vLp9z") == ["invalid_character", "missing_symbol"]


def test_non_ascii_symbols_and_letters_count():
    assert violations("Ωmega§été2024x") == []
    assert violations("ÉTÉ7§ÉTÉ7§ÉTÉ7") == ["missing_lowercase"]


def test_every_broken_rule_is_reported_at_once():
    assert violations("abc def") == [
        "too_short",
        "contains_space",
        "missing_uppercase",
        "missing_digit",
        "missing_symbol",
    ]


def test_check_password_raises_with_all_violations():
    with pytest.raises(PasswordRejected) as caught:
        check_password("password", EMAIL)
    assert caught.value.code == "password_rejected"
    assert caught.value.violations == (
        "too_short",
        "missing_uppercase",
        "missing_digit",
        "missing_symbol",
        "too_common",
    )


@pytest.mark.parametrize(
    "password",
    [
        "John.Smith@NATO.int",  # the address itself, any case
        "john.smith@nato.int!1A",  # contains the address
        "JOHN.SMITH",  # the local part
        "JohnSmith#2024",  # the local part without its dot
        "Xy9!john.smith",  # contains the local part
    ],
)
def test_password_built_on_the_email_is_rejected(password):
    assert "matches_email" in violations(password)


def test_plus_tag_is_ignored_when_matching_the_local_part():
    assert "matches_email" in violations("Hannah#2024xy", "hannah+news@example.org")


def test_short_local_part_only_matches_when_equal():
    assert violations("Royal#Palm2024", "al@example.org") == []
    assert "matches_email" in violations("AL", "al@example.org")


def test_without_an_email_the_email_rule_is_skipped():
    assert violations("Xy9!john.smith", None) == []


@pytest.mark.parametrize(
    "password",
    [
        "Password123!",
        "P@ssw0rd2024!",
        "pASSwORD2023#",
        "Qwerty123456!",
        "2024Summer!!",
        "!!Football1234",
        "Hell0World!!1",
        "Pr1nc3ss2024!",  # "princess" with 1 read as i and 3 as e
        "1Qaz2wsx3edc!",  # list entry itself plus a symbol
    ],
)
def test_dressed_up_common_passwords_are_too_common(password):
    assert violations(password, None) == ["too_common"]


def test_common_list_is_bundled_lower_cased_and_large():
    entries = common_passwords()
    assert len(entries) >= 10_000
    assert all(entry == entry.lower() for entry in entries)
    assert {"password", "iloveyou", "dragon"} <= entries


def test_common_list_is_gzip_text_inside_the_package():
    from importlib import resources

    package, name = COMMON_PASSWORDS_RESOURCE
    raw = gzip.decompress(resources.files(package).joinpath(name).read_bytes())
    assert raw.decode("utf-8").splitlines()[:2] == ["123456", "password"]


def test_common_comparison_is_case_insensitive():
    assert is_common_password("DRAGON")
    assert is_common_password("DrAgOn")
    assert not is_common_password(STRONG)


def test_nfkc_forms_are_the_same_password():
    composed = "Été#2024xyzw"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert violations(decomposed) == violations(composed) == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=140))
def test_rules_are_total_and_length_rules_follow_the_nfkc_length(password):
    found = password_violations(password)
    assert all(isinstance(rule, PasswordRule) for rule in found)
    length = len(unicodedata.normalize("NFKC", password))
    assert (PasswordRule.TOO_SHORT in found) == (length < MIN_LENGTH)
    assert (PasswordRule.TOO_LONG in found) == (length > MAX_LENGTH)
