"""Text folding for search: case- and accent-insensitive words.

anyascii transliterates beyond what Unicode decomposition can (ø, ł, æ, Cyrillic), so
"Støre", "Zelenskyy" or "Sécurité" are found when typed on any keyboard.
"""

from __future__ import annotations

import re

from anyascii import anyascii

_WORD = re.compile(r"[a-z0-9]+")
# Apostrophes join a word instead of splitting it: "O'Brien" -> "obrien", "Europe's" -> "europes".
_APOSTROPHES = re.compile(r"['`]")


def fold(text: str) -> str:
    """Lower-case ASCII form of ``text``: "Sécurité" -> "securite", "RUTTE" -> "rutte"."""
    return _APOSTROPHES.sub("", anyascii(text).casefold())


def terms(text: str) -> list[str]:
    """The distinct folded words of ``text``, in order of first appearance."""
    return list(dict.fromkeys(_WORD.findall(fold(text))))
