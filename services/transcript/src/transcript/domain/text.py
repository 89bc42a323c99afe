"""Text clean-up shared by the readers: line endings, BOM, odd spaces, quotes, slugs and keys."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
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


# Whitespace that str.split knows and normalize_source keeps (the information separators).
KEPT_WHITESPACE = "\x1c\x1d\x1e\x1f"
# Looked for with a compiled pattern: `"  " in text` is 2.5 times slower on prose, where every
# space is a near miss.
RUN_OF_SPACES = re.compile("  ")
# normalize_source looks for each odd character in turn: ~28 passes over a chunk of this many
# characters, which stays in the processor's cache, cost a quarter less than the same passes
# over a whole upload of 10 MB, which does not (and the parse's large/small ratio with them).
_CHUNK_CHARS = 1 << 16


@dataclass(frozen=True, slots=True)
class SourceLines:
    """The stripped lines of a normalised source, and what a paragraph joined from them may
    hold besides single spaces: ``space_runs`` False means no line holds a run of spaces;
    ``kept_whitespace`` whether any holds KEPT_WHITESPACE."""

    lines: list[str]
    space_runs: bool
    kept_whitespace: bool


def normalized_lines(text: str, chunk_chars: int = _CHUNK_CHARS) -> SourceLines:
    """``normalize_source(text).split("\\n")`` with each line stripped, computed a chunk of
    whole lines at a time while the chunk is in the cache: a chunk ends with its line break,
    so no replacement (not even of "\\r\\n") spans two chunks."""
    lines: list[str] = []
    space_runs = kept_whitespace = False
    start = 0
    while True:
        end = text.find("\n", start + chunk_chars)
        chunk = normalize_source(text[start : end + 1] if end != -1 else text[start:])
        space_runs = space_runs or RUN_OF_SPACES.search(chunk) is not None
        # In the cache, four scans of a chunk cost a tenth of the same over a whole upload.
        kept_whitespace = kept_whitespace or any(c in chunk for c in KEPT_WHITESPACE)
        lines += map(str.strip, chunk.split("\n"))
        if end == -1:
            break
        del lines[-1]  # the chunk's final line break, not a line
        start = end + 1
    return SourceLines(lines, space_runs, kept_whitespace)


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
