from __future__ import annotations

import os

from hypothesis import given
from hypothesis import strategies as st
from identity.domain.unsubscribe import is_valid_unsubscribe_token, unsubscribe_token

KEY = os.urandom(32)


def test_a_token_is_valid_for_its_user_only() -> None:
    token = unsubscribe_token(KEY, "user-1")
    assert is_valid_unsubscribe_token(KEY, "user-1", token)
    assert not is_valid_unsubscribe_token(KEY, "user-2", token)
    assert not is_valid_unsubscribe_token(os.urandom(32), "user-1", token)


def test_tokens_are_stable_and_url_safe() -> None:
    token = unsubscribe_token(KEY, "user-1")
    assert token == unsubscribe_token(KEY, "user-1")
    assert len(token) == 43 and set(token) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )


@given(st.text(max_size=64), st.text(max_size=64))
def test_a_tampered_token_is_refused(user_id: str, presented: str) -> None:
    token = unsubscribe_token(KEY, user_id)
    assert is_valid_unsubscribe_token(KEY, user_id, presented) == (presented == token)
