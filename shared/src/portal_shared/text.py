"""The one text folding of every search on the platform (catalog videos, transcript segments).

``fold`` is anyascii's transliteration, lower-cased: it goes beyond Unicode decomposition
(ø, ł, æ, ß, Cyrillic, Greek), so "Støre", "Łukasz", "Sécurité" or "Зеленський" are found
when typed on any keyboard ("store", "lukasz", "securite", "zelenskii").

``search_terms`` is how both the stored text and the query become words: runs of ASCII
letters and digits of the folded text. A word with apostrophes counts whole and in its
parts, so "O'Brien" is found by "obrien", "O'Brien" and "brien", and "l'OTAN" by "otan";
since stored text and queries are cut the same way, a query's words are always among those
of the text it was typed from.
"""

from __future__ import annotations

import re
from functools import lru_cache

from anyascii import anyascii

# A word: letters and digits, possibly joined by apostrophes (anyascii makes ’ and ʼ into ').
_WORD = re.compile(r"[a-z0-9]+(?:['`][a-z0-9]+)*")
_APOSTROPHE = re.compile(r"['`]")


@lru_cache(maxsize=16384)
def fold(text: str) -> str:
    """Lower-case ASCII form of ``text``: "Sécurité" -> "securite", "Støre" -> "store"."""
    return anyascii(text).casefold() if not text.isascii() else text.casefold()


def search_terms(text: str) -> list[str]:
    """The distinct search words of ``text``, in order of first appearance."""
    words: list[str] = []
    for word in _WORD.findall(fold(text)):
        words.append(_APOSTROPHE.sub("", word))
        if word != words[-1]:
            words.extend(_APOSTROPHE.split(word))
    return list(dict.fromkeys(words))
