"""Word search without a text index: folded terms, and snippets.

Each stored segment carries ``terms``, the distinct search words of its text; a query is cut
the same way and matched with ``{"terms": {"$all": [...]}}``, which a multikey index serves
on MongoDB and FerretDB alike. The words are ``portal_shared.text.search_terms``, the one
folding the catalog's search uses too, so "defence" finds "Défence", "store" finds "Støre",
and "zelenskyy" finds "Zelenskyy's" in both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from portal_shared.pagination import BadCursor, decode_cursor, encode_cursor
from portal_shared.text import search_terms

# A word as written in the original text (apostrophes inside it), for snippets.
_WRITTEN_WORD = re.compile(r"\w+(?:['’ʼ`]\w+)*")
MAX_QUERY_TERMS = 8


def terms_of(text: str) -> list[str]:
    """The distinct search words of ``text``, in order of first appearance."""
    return search_terms(text)


def query_terms(query: str) -> list[str]:
    """The distinct search words of a query, at most ``MAX_QUERY_TERMS`` (the rest ignored)."""
    return search_terms(query)[:MAX_QUERY_TERMS]


def matches(terms: list[str], text: str) -> bool:
    """True when every query term is a word of ``text``."""
    return set(terms) <= set(search_terms(text))


def snippet(text: str, terms: list[str], *, words_around: int = 12) -> str:
    """A short excerpt of ``text`` around the first word that matches a term, with an
    ellipsis where text was cut. Words are found in the original text, so accents and case
    stay as spoken."""
    spans = [(m.start(), m.end(), m.group()) for m in _WRITTEN_WORD.finditer(text)]
    wanted = set(terms)
    hit = next((i for i, (_, _, word) in enumerate(spans) if wanted & set(search_terms(word))), 0)
    if not spans:
        return text.strip()
    first = max(0, hit - words_around)
    last = min(len(spans) - 1, hit + words_around)
    excerpt = " ".join(text[spans[first][0] : spans[last][1]].split())
    prefix = "… " if first > 0 else ""
    suffix = " …" if last < len(spans) - 1 else ""
    return f"{prefix}{excerpt}{suffix}"


@dataclass(frozen=True)
class SearchPosition:
    """Where a page of hits ended: hits come by (video id, segment index)."""

    video_id: str
    segment_index: int


SEARCH_SCOPE = "transcript_search"


def encode_search_cursor(position: SearchPosition) -> str:
    return encode_cursor(SEARCH_SCOPE, (position.video_id, position.segment_index))


def decode_search_cursor(cursor: str) -> SearchPosition:
    """The position a cursor names; ``BadCursor`` (400 ``bad_cursor``) if it is not ours."""
    video_id, index = decode_cursor(cursor, scope=SEARCH_SCOPE, shape=(str, int))
    if not isinstance(video_id, str) or not video_id or not isinstance(index, int):
        raise BadCursor("cursor position is invalid")
    return SearchPosition(video_id, index)
