"""Languages the emails are written in."""

from __future__ import annotations

from typing import Final

SUPPORTED_LANGUAGES: Final = ("en", "fr")
FALLBACK_LANGUAGE: Final = "en"


def resolve_language(language: str | None) -> str:
    """Return the language to write in: the asked one if supported, else English.

    Events only carry ``en`` or ``fr`` today, but a future language must not make the email
    fail: an email in English is better than no email (and no code) at all.
    """
    normalised = (language or "").strip().lower().split("-")[0]
    return normalised if normalised in SUPPORTED_LANGUAGES else FALLBACK_LANGUAGE
