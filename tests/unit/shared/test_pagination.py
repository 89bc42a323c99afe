"""The one cursor pagination: cursors round-trip, garbage is 400 bad_cursor, limit is bounded."""

from __future__ import annotations

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from portal_shared.http import create_app
from portal_shared.list_params import DEFAULT_LIMIT, MAX_LIMIT, Cursor, Limit
from portal_shared.pagination import (
    MAX_CURSOR_CHARS,
    MAX_KEY_CHARS,
    BadCursor,
    Page,
    decode_cursor,
    encode_cursor,
)

# What stored text can hold: no NUL, no lone surrogates (not UTF-8).
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=100
)


@given(key=TEXT, item_id=TEXT, index=st.integers(min_value=0, max_value=2**31 - 1))
def test_a_cursor_names_the_position_it_was_made_from(key: str, item_id: str, index: int) -> None:
    cursor = encode_cursor("things:newest", [key, index, item_id])
    assert cursor.isascii() and "=" not in cursor
    assert decode_cursor(cursor, scope="things:newest", shape=(str, int, str)) == (
        key,
        index,
        item_id,
    )


@pytest.mark.parametrize("char", ["x", "\x01", "é", "\U0010ffff", '"'])
def test_the_longest_valid_position_makes_a_cursor_that_decodes(char: str) -> None:
    key = char * MAX_KEY_CHARS
    cursor = encode_cursor("things:newest", [key, 2**31 - 1, key])
    assert len(cursor) <= MAX_CURSOR_CHARS
    assert decode_cursor(cursor, scope="things:newest", shape=(str, int, str)) == (
        key,
        2**31 - 1,
        key,
    )


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "x" * (MAX_CURSOR_CHARS + 1),
        "Zm9v",  # "foo"
        "W10",  # []
        encode_cursor("things:oldest", ["a", "b"]),  # another sort order
        encode_cursor("things:newest", ["a"]),  # too short
        encode_cursor("things:newest", ["a", 1]),  # wrong type
        encode_cursor("things:newest", ["a\x00", "b"]),  # NUL: no stored text has it
        encode_cursor("things:newest", ["a" * 401, "b"]),
        encode_cursor("things:newest", [True, "b"]),
        encode_cursor("things:newest", ["\ud800", "b"]),  # a lone surrogate: not UTF-8
    ],
)
def test_garbage_and_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(BadCursor):
        decode_cursor(cursor, scope="things:newest", shape=(str, str))


def test_an_index_outside_0_to_2_31_is_refused() -> None:
    for index in (-1, 2**31, 2**63):
        with pytest.raises(BadCursor):
            decode_cursor(encode_cursor("s", [index]), scope="s", shape=(int,))


def _app() -> TestClient:
    router = APIRouter()

    @router.get("/things")
    async def _things(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[int]:
        start = decode_cursor(cursor, scope="things", shape=(int,))[0] if cursor else 0
        assert isinstance(start, int)
        items = list(range(start, min(start + limit, 7)))
        more = items and items[-1] < 6
        return Page(
            items=items, next_cursor=encode_cursor("things", [items[-1] + 1]) if more else None
        )

    return TestClient(create_app(service="test", title="t", description="d", routers=[router]))


def test_a_list_route_pages_with_the_shared_parameters_and_shape() -> None:
    client = _app()
    first = client.get("/things", params={"limit": 5}).json()
    assert first["items"] == [0, 1, 2, 3, 4]
    rest = client.get("/things", params={"cursor": first["next_cursor"]}).json()
    assert rest == {"items": [5, 6], "next_cursor": None}

    refused = client.get("/things", params={"cursor": "garbage"})
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "bad_cursor"
    for limit in (0, MAX_LIMIT + 1, "ten"):
        too_many = client.get("/things", params={"limit": limit})
        assert too_many.status_code == 422 and too_many.json()["code"] == "validation_error"


def test_the_openapi_document_says_so() -> None:
    operation = _app().get("/openapi.json").json()["paths"]["/things"]["get"]
    limit = next(p for p in operation["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["type"], limit["schema"]["minimum"]) == ("integer", 1)
    assert limit["schema"]["maximum"] == MAX_LIMIT
    examples = operation["responses"]["400"]["content"]["application/problem+json"]["examples"]
    assert "bad_cursor" in examples
