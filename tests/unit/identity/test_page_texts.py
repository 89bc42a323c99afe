"""Every error the account and video pages can meet is a sentence in English and French."""

from __future__ import annotations

import pytest
from catalog.entrypoints import errors as catalog_errors
from catalog.entrypoints.texts import TEXTS as CATALOG_TEXTS
from identity.domain import errors
from identity.domain.codes import CodeOutcome
from identity.domain.passwords import PasswordRule
from identity.entrypoints.page_support import error_key
from identity.entrypoints.texts import TEXTS as IDENTITY_TEXTS
from portal_shared.pages import COMMON_TEXTS


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    return found


def _example(cls: type[errors.DomainError]) -> errors.DomainError:
    for args in ((), ("wrong",), (30,)):
        try:
            return cls(*args)
        except TypeError:
            continue
    raise AssertionError(f"cannot build {cls.__name__}")


@pytest.mark.parametrize("texts", [IDENTITY_TEXTS, CATALOG_TEXTS, COMMON_TEXTS])
def test_english_and_french_have_the_same_sentences(texts) -> None:
    assert set(texts["en"]) == set(texts["fr"])
    assert all(texts["fr"].values())


def test_every_identity_error_code_and_reason_is_a_sentence_in_both_languages() -> None:
    raised = [_example(cls) for cls in _all_subclasses(errors.DomainError)]
    raised += [
        errors.CodeRejected(outcome.value)
        for outcome in CodeOutcome
        if outcome is not CodeOutcome.OK
    ]
    for exc in raised:
        key, values = error_key(exc)
        for language in ("en", "fr"):
            assert key in IDENTITY_TEXTS[language], (language, key)
            assert IDENTITY_TEXTS[language][key].format(**values)


def test_every_password_rule_is_a_sentence_in_both_languages() -> None:
    for rule in [*PasswordRule, "same_as_current"]:
        for language in ("en", "fr"):
            assert f"rule_{getattr(rule, 'value', rule)}" in IDENTITY_TEXTS[language]


def test_every_refusal_of_a_download_is_a_sentence_in_both_languages() -> None:
    codes = [
        *catalog_errors._DENIALS,
        "video_not_found",
        "rendition_not_found",
        "download_quota_exceeded",
        "unauthenticated",
        "token_expired",
        "token_revoked",
        "token_invalid",
        "unknown_key",
        "keys_unavailable",
        "bad_cursor",
    ]
    for code in codes:
        for language in ("en", "fr"):
            assert CATALOG_TEXTS[language][f"error_{code}"].format(seconds=5)
