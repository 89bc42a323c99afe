"""Text clean-up shared by the readers: line endings, BOM, odd spaces, quotes, slugs and keys."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Every Unicode space separator except the plain space, plus tabs and form feeds; zero-width
# marks and the BOM; line breaks other than "\n". Each is looked for with ``in`` and replaced
# with ``str.replace`` (both scan at memory speed) instead of a regular expression's character
# class, which walks the text a character at a time (a third of the parse of a 10 MB upload).
_ODD_SPACES = "\t\f\v\u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f\u3000"
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
_LINE_BREAKS = "\u2028\u2029\x85"
_NOT_WORD = re.compile(r"[\W_]+")
_QUOTES = str.maketrans(
    {"’": "'", "‘": "'", "ʼ": "'", "`": "'", "“": '"', "”": '"', "«": '"', "»": '"'}
)


def normalize_source(text: str) -> str:
    """Unify line endings and spaces and drop BOM/zero-width marks; text keeps its quotes."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    for replacement, found in (("\n", _LINE_BREAKS), ("", _ZERO_WIDTH), (" ", _ODD_SPACES)):
        for char in found:
            if char in text:
                text = text.replace(char, replacement)
    return text


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
