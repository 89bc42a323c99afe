"""The query parameters of every list route (see ``portal_shared.pagination``).

    async def list_things(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[Thing]:

``limit`` is an integer from 1 to ``MAX_LIMIT`` (anything else is the 422 validation problem,
and the OpenAPI document says so); ``cursor`` is opaque text, decoded by the route's use case
with ``decode_cursor`` (a foreign one is 400 ``bad_cursor``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from portal_shared.pagination import DEFAULT_LIMIT, MAX_CURSOR_CHARS, MAX_LIMIT

Limit = Annotated[
    int,
    Query(ge=1, le=MAX_LIMIT, description=f"most items on one page, 1 to {MAX_LIMIT}"),
]
Cursor = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_CURSOR_CHARS,
        description="`next_cursor` of the previous page (opaque)",
    ),
]

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Cursor", "Limit"]
