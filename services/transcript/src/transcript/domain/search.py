"""Word search without a text index: accent- and case-folded terms, and snippets.

Each stored segment carries ``terms``, the distinct folded words of its text; a query is
folded the same way and matched with ``{"terms": {"$all": [...]}}``, which a multikey index
serves on MongoDB and FerretDB alike. Folding is ``text.fold`` (no accents, no case, straight
quotes), so "defence" finds "Défence" and "zelenskyy" finds "Zelenskyy".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from portal_shared.pagination import BadCursor, decode_cursor, encode_cursor

from transcript.domain.text import fold

# Apostrophes split words, so "Zelenskyy's" and "l'OTAN" are found by "zelenskyy" and "otan".
_WORD = re.compile(r"\w+")
MAX_QUERY_TERMS = 8


def _folded_words(text: str) -> list[str]:
    return [word for word in _WORD.findall(fold(text)) if word]


def terms_of(text: str) -> list[str]:
    """The distinct folded words of ``text``, in order of first appearance."""
    return list(dict.fromkeys(_folded_words(text)))


def query_terms(query: str) -> list[str]:
    """The distinct folded words of a query, at most ``MAX_QUERY_TERMS`` (the rest ignored)."""
    return terms_of(query)[:MAX_QUERY_TERMS]


def matches(terms: list[str], text: str) -> bool:
    """True when every query term is a word of ``text``."""
    words = set(_folded_words(text))
    return all(term in words for term in terms)


def snippet(text: str, terms: list[str], *, words_around: int = 12) -> str:
    """A short excerpt of ``text`` around the first word that matches a term, with an
    ellipsis where text was cut. Words are found in the original text, so accents and case
    stay as spoken."""
    spans = [(m.start(), m.end(), fold(m.group())) for m in _WORD.finditer(text)]
    wanted = set(terms)
    hit = next((i for i, (_, _, word) in enumerate(spans) if word in wanted), 0)
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
