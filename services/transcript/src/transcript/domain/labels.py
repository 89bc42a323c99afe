"""Reading a speaker label: "NATO Secretary General Mark Rutte", "Christiane Amanpour (Moderator)",
"Name [Role, Moderator]", "Title, Name", "Question [Outlet]", "MARK RUTTE".

A label is read without context; whether it really is a speaker (and not a short line of
speech) is decided by the reader with the help of the roster and repetition; ``colon_label``
marks a full name before a colon as explicit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

from transcript.domain.text import collapse, fold, slugify, straighten_quotes
from transcript.domain.vocabulary import (
    MODERATOR_WORDS,
    NAME_PARTICLES,
    NOT_NAME_WORDS,
    QUESTION_WORDS,
    TITLE_CONNECTORS,
    TITLE_WORDS,
)

RefKind = Literal["person", "title", "moderator", "question"]

MAX_LABEL_CHARS = 100
_MAX_TOKENS = 12
_TRAILING_GROUP = re.compile(r"^(?P<core>[^\[\]()]*?)\s*[\[(](?P<extra>[^\[\]()]*)[\])]$")
_ELISION = re.compile(r"^[ldLD]'")
_INITIAL = re.compile(r"^[^\W\d_]\.$")


@dataclass(frozen=True, slots=True)
class SpeakerRef:
    """What a label says about its speaker. ``tokens`` keeps title and name words for matching
    against names the roster already gave (a roster name may be longer than our guess)."""

    kind: RefKind
    label: str
    name: str | None = None
    title: str | None = None
    affiliation: str | None = None
    is_moderator: bool = False
    explicit: bool = False
    tokens: tuple[str, ...] = ()

    def __hash__(self) -> int:
        # The label alone (equal refs have equal labels): the generated hash of all eight fields
        # was a tenth of a parse, which looks up every label's ref in the speaker registry.
        return hash(self.label)

    @property
    def key(self) -> str:
        if self.kind in ("moderator", "question"):
            return self.kind
        return slugify(self.name or self.title or self.label)


def _is_capitalised(token: str) -> bool:
    bare = _ELISION.sub("", straighten_quotes(token))
    if not bare or not bare[0].isupper():
        return False
    return all(ch.isalpha() or ch in "-'." for ch in bare)


def _is_title_word(token: str) -> bool:
    key = fold(token)
    return key in TITLE_WORDS or fold(_ELISION.sub("", straighten_quotes(token))) in TITLE_WORDS


def _is_name_word(token: str) -> bool:
    return _is_capitalised(token) and not _is_title_word(token)


def _is_valid_token(token: str) -> bool:
    return (
        _is_capitalised(token)
        or _is_title_word(token)
        or fold(token) in TITLE_CONNECTORS
        or token in NAME_PARTICLES
    )


def split_title_name(tokens: list[str]) -> tuple[list[str], list[str]] | None:
    """Split "NATO Secretary General Mark Rutte" into title and name words; None if the words
    cannot be a label. The name is a surname, the particles and initials before it, and at most
    one given name; three capitalised words with no title word are all name."""
    if not tokens or len(tokens) > _MAX_TOKENS or not all(map(_is_valid_token, tokens)):
        return None
    if not _is_name_word(tokens[-1]):
        return tokens, []
    start = len(tokens) - 1
    while start > 0 and (tokens[start - 1] in NAME_PARTICLES or _INITIAL.match(tokens[start - 1])):
        start -= 1
    if start > 0 and _is_name_word(tokens[start - 1]):
        start -= 1
    title = tokens[:start]
    if title and all(_is_name_word(t) for t in title):
        return [], tokens
    return title, tokens[start:]


def _display_name(words: list[str]) -> str:
    name = " ".join(words)
    # Subtitles often shout names ("MARK RUTTE:"); show them as a roster would.
    return name.title() if name.isupper() and len(name) > 2 else name


def _split_group(label: str) -> tuple[str, list[str]]:
    match = _TRAILING_GROUP.match(label)
    if not match:
        return label, []
    parts = [collapse(p) for p in match["extra"].split(",")]
    return match["core"], [p for p in parts if p]


@lru_cache(maxsize=8192)
def parse_label(label: str) -> SpeakerRef | None:
    """Read a label, or None when it cannot name a speaker."""
    label = collapse(label)
    if not label or len(label) > MAX_LABEL_CHARS:
        return None
    core, extras = _split_group(label)
    moderator = any(fold(p) in MODERATOR_WORDS for p in extras)
    extras = [p for p in extras if fold(p) not in MODERATOR_WORDS]
    core_key = fold(core)
    if core_key in MODERATOR_WORDS:
        affiliation = ", ".join(extras) or None
        return SpeakerRef("moderator", core, affiliation=affiliation, is_moderator=True)
    if core_key in QUESTION_WORDS:
        return SpeakerRef("question", core, affiliation=", ".join(extras) or None, explicit=True)
    if ", " in core:
        return _title_comma_name(label, core, extras, moderator)
    return _title_then_name(label, core.split(" "), extras, moderator, bool(extras) or moderator)


@lru_cache(maxsize=8192)
def colon_label(label: str) -> SpeakerRef | None:
    """Read the label before a colon ("Mark Rutte: text", "Jane Doe:" on its own line).

    A colon after a full name (two to four name words) is evidence enough that a person
    speaks, so such a label is explicit even if it occurs once; a lone word ("Rutte:",
    "Note:") or a phrase such as "Step One:" still needs the roster or repetition.
    """
    ref = parse_label(label)
    if ref is None or ref.explicit or not _is_full_name(ref):
        return ref
    return replace(ref, explicit=True)


def _is_full_name(ref: SpeakerRef) -> bool:
    if ref.kind != "person" or ref.title is not None or ref.name is None:
        return False
    words = ref.name.split(" ")
    capitalised = [w for w in words if w not in NAME_PARTICLES]
    return 2 <= len(capitalised) <= 4 and not any(fold(w) in NOT_NAME_WORDS for w in words)


def _title_comma_name(
    label: str, core: str, extras: list[str], moderator: bool
) -> SpeakerRef | None:
    """ "Secretary General, Mark Rutte" (or the other way round); one side must be a title."""
    left, right = core.rsplit(", ", 1)
    for title, name in ((left, right), (right, left)):
        title_split = split_title_name(title.split(" "))
        name_split = split_title_name(name.split(" "))
        if not title_split or not name_split or name_split[0]:
            continue
        if any(_is_title_word(t) for t in title.split(" ")) and name_split[1]:
            tokens = name.split(" ")
            return _person(label, [*title.split(" ")], tokens, extras, moderator, True)
    return None


def _title_then_name(
    label: str, tokens: list[str], extras: list[str], moderator: bool, grouped: bool
) -> SpeakerRef | None:
    split = split_title_name(tokens)
    if split is None:
        return None
    title, name = split
    if not name:
        affiliation = ", ".join(extras) or None
        return SpeakerRef(
            "title",
            label,
            title=" ".join(title),
            affiliation=affiliation,
            is_moderator=moderator,
            tokens=tuple(tokens),
        )
    explicit = grouped or any(_is_title_word(t) for t in title)
    return _person(label, title, name, extras, moderator, explicit)


def _person(
    label: str,
    title: list[str],
    name: list[str],
    extras: list[str],
    moderator: bool,
    explicit: bool,
) -> SpeakerRef:
    role = " ".join(title) or None
    affiliation = None
    if extras and role is None:
        role, affiliation = extras[0], ", ".join(extras[1:]) or None
    elif extras:
        affiliation = ", ".join(extras)
    return SpeakerRef(
        "person",
        label,
        name=_display_name(name),
        title=role,
        affiliation=affiliation,
        is_moderator=moderator,
        explicit=explicit,
        tokens=(*title, *name),
    )
