"""Text clean-up shared by the readers: line endings, BOM, odd spaces, quotes, slugs and keys."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Every Unicode space separator except the plain space, plus tabs and form feeds.
_ODD_SPACES = re.compile(r"[\t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_ZERO_WIDTH = re.compile(r"[\u200b-\u200d\u2060\ufeff]")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_NOT_WORD = re.compile(r"[\W_]+")
_QUOTES = str.maketrans(
    {"’": "'", "‘": "'", "ʼ": "'", "`": "'", "“": '"', "”": '"', "«": '"', "»": '"'}
)


def normalize_source(text: str) -> str:
    """Unify line endings and spaces and drop BOM/zero-width marks; text keeps its quotes."""
    text = _LINE_BREAKS.sub("\n", text)
    text = _ZERO_WIDTH.sub("", text)
    return _ODD_SPACES.sub(" ", text)


def collapse(text: str) -> str:
    """One space between words, none at the ends."""
    return " ".join(text.split())


def straighten_quotes(text: str) -> str:
    return text.translate(_QUOTES)


@lru_cache(maxsize=16384)
def fold(text: str) -> str:
    """A comparison key: no accents, no case, straight quotes, single spaces."""
    if text.isascii():
        return collapse(text).casefold()
    decomposed = unicodedata.normalize("NFKD", straighten_quotes(text))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return collapse(bare).casefold()


@lru_cache(maxsize=16384)
def slugify(text: str) -> str:
    """A stable id from a name: "Mark Rutte" -> "mark-rutte", "Zoë Ó Briain" -> "zoe-o-briain"."""
    return _NOT_WORD.sub("-", fold(text).replace("'", "")).strip("-")
