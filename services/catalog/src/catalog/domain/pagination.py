"""Opaque cursors for keyset pagination over (sort key, id).

A cursor is base64url (no padding) of a small JSON object naming the sort order it belongs
to, the last item's sort key and id. It carries nothing secret and only positions a page
within public data, so it is validated rather than signed: anything that does not decode to
exactly that shape, or was made for another sort order, is a ``BadCursor`` (error id
``bad_cursor``, HTTP 400).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

CURSOR_VERSION = 1
MAX_CURSOR_CHARS = 1_000


class BadCursor(ValueError):
    error_id = "bad_cursor"


@dataclass(frozen=True)
class CursorPosition:
    sort: str
    key: str
    id: str


def encode_cursor(position: CursorPosition) -> str:
    payload = {"v": CURSOR_VERSION, "s": position.sort, "k": position.key, "i": position.id}
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, *, sort: str) -> CursorPosition:
    """The position a cursor names; BadCursor if it is not one of ours for ``sort``."""
    payload = _payload(cursor)
    version = payload.get("v")
    if (
        set(payload) != {"v", "s", "k", "i"}
        or type(version) is not int
        or version != CURSOR_VERSION
    ):
        raise BadCursor("cursor has an unknown shape")
    if payload["s"] != sort:
        raise BadCursor("cursor belongs to another sort order")
    key, item_id = payload["k"], payload["i"]
    if not (isinstance(key, str) and isinstance(item_id, str) and item_id and len(key) <= 400):
        raise BadCursor("cursor position is invalid")
    if "\x00" in key or "\x00" in item_id:  # no stored text holds NUL
        raise BadCursor("cursor position is invalid")
    return CursorPosition(sort=sort, key=key, id=item_id)


def _payload(cursor: str) -> dict[str, object]:
    if not cursor or len(cursor) > MAX_CURSOR_CHARS or not cursor.isascii():
        raise BadCursor("cursor is empty or too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise BadCursor("cursor does not decode") from exc
    if not isinstance(payload, dict):
        raise BadCursor("cursor is not an object")
    return payload
