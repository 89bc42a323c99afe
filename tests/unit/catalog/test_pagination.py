from __future__ import annotations

import base64
import json

import pytest
from catalog.domain.pagination import BadCursor, CursorPosition, decode_cursor, encode_cursor


def raw_cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("key", ["2026-02-14", "sécurité euro atlantique", ""])
def test_round_trip(key: str) -> None:
    position = CursorPosition(sort="newest", key=key, id="d642416b-dcfb-52b0")
    cursor = encode_cursor(position)
    assert "=" not in cursor and cursor.isascii()
    assert decode_cursor(cursor, sort="newest") == position


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "bm90IGpzb24",  # "not json"
        raw_cursor([1, 2]),
        raw_cursor({"v": 2, "s": "newest", "k": "x", "i": "y"}),
        raw_cursor({"v": True, "s": "newest", "k": "x", "i": "y"}),
        raw_cursor({"v": 1, "s": "newest", "k": 5, "i": "y"}),
        raw_cursor({"v": 1, "s": "newest", "k": "x", "i": ""}),
        raw_cursor({"v": 1, "s": "newest", "k": "x", "i": "y", "extra": 1}),
        raw_cursor({"v": 1, "s": "title", "k": "x", "i": "y"}),
        "A" * 2000,
        "é",
    ],
)
def test_bad_cursors(cursor: str) -> None:
    with pytest.raises(BadCursor) as caught:
        decode_cursor(cursor, sort="newest")
    assert caught.value.error_id == "bad_cursor"
