"""Who speaks in a video: the editors' credits joined with the transcript's speaker list."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import Field

from catalog.domain.model import InputModel
from catalog.domain.text import terms


class SpeakerCredit(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    role: Annotated[str | None, Field(max_length=200)] = None
    affiliation: Annotated[str | None, Field(max_length=200)] = None
    is_moderator: bool = False


def speaker_key(name: str) -> tuple[str, ...]:
    """Names that differ only in case, accents or punctuation are the same person."""
    return tuple(terms(name))


def combine_speakers(
    editor_credits: Iterable[SpeakerCredit], transcript_credits: Iterable[SpeakerCredit]
) -> list[SpeakerCredit]:
    """Editors' credits first (their spelling wins), then transcript speakers not yet listed."""
    combined: dict[tuple[str, ...], SpeakerCredit] = {}
    for credit in (*editor_credits, *transcript_credits):
        combined.setdefault(speaker_key(credit.name), credit)
    return list(combined.values())
