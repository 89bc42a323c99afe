"""Text folding for search: the platform's one folding, ``portal_shared.text``.

anyascii transliterates beyond what Unicode decomposition can (ø, ł, æ, Cyrillic), so
"Støre", "Zelenskyy" or "Sécurité" are found when typed on any keyboard, here and in the
transcript service's search alike.
"""

from __future__ import annotations

from portal_shared.text import fold
from portal_shared.text import search_terms as terms

__all__ = ["fold", "terms"]
