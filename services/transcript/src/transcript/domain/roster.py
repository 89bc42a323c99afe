"""The roster paragraph: who took part, with role and organisation, including people who never
speak.

English: "Speakers included NAME, ROLE; NAME, ROLE. Moderated by NAME, ORGANISATION."
French:  "Intervenants : NAME, ROLE ; NAME, ROLE. Modération : NAME, ORGANISATION."
An entry is "NAME", "NAME, ROLE", "NAME, ROLE, ORGANISATION" or "TITLE NAME"; the moderator's
entry is "NAME", "NAME, ORGANISATION" or "NAME, ROLE, ORGANISATION".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from transcript.domain.labels import split_title_name
from transcript.domain.model import Speaker
from transcript.domain.text import collapse

_SPEAKERS_CUE = re.compile(
    r"^(?:speakers?(?:\s+(?:included|include|were|are))?|panell?ists?(?:\s+(?:included|were))?"
    r"|participants?(?:\s+(?:included|were))?|participantes?|intervenant(?:e)?s?"
    r"|intervenantes et intervenants|orat(?:eur|rice)s?|parmi les intervenants(?: figuraient)?"
    r"|avec la participation de|les intervenants étaient)\s*:?\s+",
    re.IGNORECASE,
)
_MODERATION_CUE = (
    r"(?:moderated by|moderator\s*:|moderation\s*:|modération\s*:|modérée? par|animée? par"
    r"|modérat(?:eur|rice)\s*:|animat(?:eur|rice)\s*:)\s*"
)
_MODERATION_TAIL = re.compile(r"(?:^|[.;]\s*)" + _MODERATION_CUE, re.IGNORECASE)
# A roster of only a moderator must say "Moderated by": "Moderator: ..." is a line of speech.
_MODERATION_HEAD = re.compile(
    r"(?:moderated by\s|modérée? par\s|animée? par\s|modération\s*:)", re.IGNORECASE
)
_LEADING_AND = re.compile(r"^(?:and|et)\s+", re.IGNORECASE)
# The first three letters of every cue above, in the forms the patterns' IGNORECASE accepts
# (the first letter ASCII only, as before: "ſpeakers" was never a cue): a line that starts
# otherwise is no roster, and the reader turns most lines of speech away with one lookup.
_CASE_FORMS = {"s": "sSſ", "i": "iIıİ"}
ROSTER_HEADS = frozenset(
    first + second + third
    for head in ("spe", "pan", "par", "int", "ora", "ave", "les", "mod", "ani")
    for first in (head[0], head[0].upper())
    for second in _CASE_FORMS.get(head[1], head[1] + head[1].upper())
    for third in _CASE_FORMS.get(head[2], head[2] + head[2].upper())
)


@dataclass(frozen=True, slots=True)
class RosterEntry:
    name: str
    role: str | None
    affiliation: str | None
    is_moderator: bool


def parse_roster(paragraph: str) -> list[RosterEntry] | None:
    """The people a roster paragraph lists, or None if the paragraph is not a roster."""
    if paragraph[:3] not in ROSTER_HEADS:
        return None
    # Cheap anchored checks first: most paragraphs of speech are rejected here.
    cue = _SPEAKERS_CUE.match(paragraph)
    if not cue and not _MODERATION_HEAD.match(paragraph):
        return None
    listed_from = cue.end() if cue else 0
    if len(paragraph) > _MAX_REMEMBERED_CHARS:
        entries = _roster_entries(paragraph, listed_from)
    else:
        entries = _remembered_roster_entries(paragraph, listed_from)
    return None if entries is None else list(entries)


def _roster_entries(paragraph: str, listed_from: int) -> tuple[RosterEntry, ...] | None:
    listed = collapse(paragraph[listed_from:]).rstrip(".")
    moderated = ""
    tail = _MODERATION_TAIL.search(listed)
    if tail:
        listed, moderated = listed[: tail.start()], listed[tail.end() :]
    entries = [_entry(part, False) for part in listed.split(";") if part.strip()]
    entries += [_entry(part, True) for part in moderated.split(";") if part.strip()]
    if not entries or any(entry is None for entry in entries):
        return None
    return tuple(entry for entry in entries if entry is not None)


# A paragraph that passed the cues is read once (~5 µs, most of it the search for the moderation
# tail): a page's roster stands on each copy of the page pasted into one upload. Long ones are
# not kept (an upload of one long paragraph starting with a cue would stay in memory).
_MAX_REMEMBERED_CHARS = 4096
_remembered_roster_entries = lru_cache(maxsize=256)(_roster_entries)


@lru_cache(maxsize=4096)
def _entry(text: str, is_moderator: bool) -> RosterEntry | None:
    parts = [collapse(p) for p in _LEADING_AND.sub("", text.strip()).split(",")]
    split = split_title_name(parts[0].split(" "))
    if split is None or not split[1] or any(not part for part in parts):
        return None
    title, name = split
    details = parts[1:]
    if title:
        role, affiliation = " ".join(title), ", ".join(details) or None
    elif is_moderator and len(details) == 1:
        role, affiliation = None, details[0]
    else:
        role = details[0] if details else None
        affiliation = ", ".join(details[1:]) or None
    return RosterEntry(" ".join(name), role, affiliation, is_moderator)


def render_roster(speakers: Iterable[Speaker]) -> str | None:
    """The English roster paragraph for these speakers (None if there is no one to list)."""
    speakers = list(speakers)
    listed = [_render_entry(s) for s in speakers if not s.is_moderator]
    moderators = [_render_entry(s) for s in speakers if s.is_moderator]
    sentences = []
    if listed:
        sentences.append("Speakers included " + "; ".join(listed) + ".")
    if moderators:
        sentences.append("Moderated by " + "; ".join(moderators) + ".")
    return " ".join(sentences) or None


def _render_entry(speaker: Speaker) -> str:
    details = [speaker.role, speaker.affiliation]
    if speaker.is_moderator and speaker.role is None:
        details = [speaker.affiliation]
    return ", ".join([speaker.name, *(d for d in details if d)])
