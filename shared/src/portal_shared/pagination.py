"""One cursor pagination for every list: opaque cursors, a bounded page size, one page shape.

A list answers ``{"items": [...], "next_cursor": ...}`` (``Page``); ``next_cursor`` is null on
the last page, and otherwise is passed back as ``cursor`` for the next one. Lists are keyset
paginated: a cursor names where the previous page ended (its last item's sort key and id),
so a page never repeats or skips an item when others are added meanwhile.

A cursor is base64url (no padding) of a small JSON object: the format version, the ``scope``
it was made for (the list and its sort order) and the position. It carries nothing secret and
only positions a page within data the caller may read, so it is validated rather than signed:
anything that is not exactly that shape, was made for another scope, or holds a value no
stored item can have (NUL or a lone surrogate, text over ``MAX_KEY_CHARS``, an integer
outside 0..2^31) is a ``BadCursor``, which every app answers 400 ``bad_cursor``
(``portal_shared.http``).

Pure: no FastAPI here; the query parameters are in ``portal_shared.list_params``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from portal_shared.error_codes import ErrorCode

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_KEY_CHARS = 400
MAX_INDEX = 2**31  # BSON holds 64-bit integers at most; no list is near this long
MAX_POSITION_VALUES = 3  # sort keys and the item's id
MAX_SCOPE_CHARS = 100
# The longest cursor a valid position makes, so that every cursor this module makes is one it
# accepts: a text value is at most 6 bytes of JSON a character (a control character's \u
# escape) plus its quotes and comma; an integer at most 11. (It was a fixed 1,000 characters:
# a position of 100 characters outside the BMP, 12 escaped bytes each, made a cursor its own
# decoder refused.) Real keys are short and mostly ASCII: about 60 characters.
_MAX_PAYLOAD_BYTES = 32 + MAX_SCOPE_CHARS + MAX_POSITION_VALUES * (6 * MAX_KEY_CHARS + 3)
MAX_CURSOR_CHARS = -(-_MAX_PAYLOAD_BYTES // 3) * 4
CURSOR_VERSION = 1

Key = str | int
T = TypeVar("T")


class BadCursor(ValueError):
    """A ``cursor`` this service did not make for this list."""

    code = ErrorCode.BAD_CURSOR


class Page(BaseModel, Generic[T]):
    """The shape of every list answer."""

    items: list[T]
    next_cursor: str | None = Field(
        None, description="pass as `cursor` for the next page; null on the last page"
    )


def encode_cursor(scope: str, position: Sequence[Key]) -> str:
    """The cursor of a page that ended at ``position`` (sort key(s), then the item's id)."""
    payload = {"v": CURSOR_VERSION, "s": scope, "p": list(position)}
    # UTF-8 rather than ASCII escapes: 2-4 bytes a character outside ASCII, not 6-12. Total
    # over any text: a lone surrogate is passed through, and the decoder refuses it.
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    raw = text.encode("utf-8", "surrogatepass")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, *, scope: str, shape: Sequence[type[Key]]) -> tuple[Key, ...]:
    """The position a cursor names, one value of each type in ``shape``; BadCursor if it is
    not one of ours for ``scope``."""
    payload = _payload(cursor)
    if set(payload) != {"v", "s", "p"} or type(payload["v"]) is not int:
        raise BadCursor("cursor has an unknown shape")
    if payload["v"] != CURSOR_VERSION or payload["s"] != scope:
        raise BadCursor("cursor belongs to another list or sort order")
    position = payload["p"]
    if not isinstance(position, list) or len(position) != len(shape):
        raise BadCursor("cursor position has the wrong length")
    if not all(_valid(value, kind) for value, kind in zip(position, shape, strict=True)):
        raise BadCursor("cursor position is invalid")
    return tuple(position)


def _valid(value: object, kind: type[Key]) -> bool:
    if kind is int:
        return type(value) is int and 0 <= value < MAX_INDEX
    # No stored text holds NUL (nor can FerretDB compare against it) or a lone surrogate
    # (not UTF-8: the driver could not even send it).
    if not isinstance(value, str) or len(value) > MAX_KEY_CHARS or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
