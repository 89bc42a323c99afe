"""Hypothesis strategies for transcripts the text and WebVTT formats can express (see render)."""

from __future__ import annotations

from hypothesis import strategies as st
from transcript.domain.model import (
    Segment,
    Speaker,
    Transcript,
    Turn,
    build_transcript,
    merge_turns,
)
from transcript.domain.speakers import MODERATOR_ID, is_keyword_speaker, question_id
from transcript.domain.text import fold, slugify
from transcript.domain.vocabulary import (
    MODERATOR_WORDS,
    NAME_PARTICLES,
    QUESTION_WORDS,
    TITLE_CONNECTORS,
    TITLE_WORDS,
)

# "and"/"et" open a roster entry ("...; and Jane Doe"), so no generated name starts with them.
_RESERVED = (
    TITLE_WORDS
    | TITLE_CONNECTORS
    | MODERATOR_WORDS
    | QUESTION_WORDS
    | NAME_PARTICLES
    | frozenset({"and", "et"})
)
_LOWER = "abcdefghijklmnopqrstuvwxyzéèêëàâäîïôöùûüçñøå"
_UPPER = "ABCDEFGHIJKLMNOPRSTUVWZÉÅÖØÇ"

lower_words = st.text(_LOWER, min_size=1, max_size=9)
name_words = st.builds(
    lambda first, rest, hyphen: first + rest + hyphen,
    st.sampled_from(_UPPER),
    st.text(_LOWER, min_size=1, max_size=8),
    st.sampled_from(["", "-Luc", "-Iweala"]),
).filter(lambda w: fold(w) not in _RESERVED)
particles = st.sampled_from(["", "von der ", "de ", "van ", "de la ", "bin "])
names = st.builds(lambda g, p, f: f"{g} {p}{f}", name_words, particles, name_words)
# Roles and organisations: words without the separators a roster uses.
phrases = (
    st.lists(st.one_of(lower_words, name_words), min_size=1, max_size=5)
    .map(" ".join)
    .filter(lambda p: fold(p) not in _RESERVED and "moderated by" not in fold(p))
)


@st.composite
def paragraphs(draw: st.DrawFn) -> str:
    words = draw(st.lists(st.one_of(lower_words, name_words), min_size=1, max_size=12))
    inner = draw(st.sampled_from([" ", ", ", " — ", " ‘", "’ ", " & ", " < ", " (", ") "]))
    text = inner.join(words) if len(words) > 1 else words[0]
    return text[0].upper() + text[1:] + draw(st.sampled_from([".", "?", "!", "…"]))


@st.composite
def _speaker(draw: st.DrawFn, is_moderator: bool) -> Speaker:
    name = draw(names)
    role = draw(st.none() | phrases)
    affiliation = draw(st.none() | phrases)
    # What a roster entry can say: "NAME, ROLE[, ORG]" and "Moderated by NAME[, ROLE], ORG".
    if is_moderator and affiliation is None:
        role = None
    if not is_moderator and role is None:
        affiliation = None
    return Speaker(slugify(name), name, role, affiliation, is_moderator)


@st.composite
def transcripts(draw: st.DrawFn, timed: bool | None = None) -> Transcript:
    named = draw(st.lists(_speaker(False), min_size=1, max_size=4, unique_by=lambda s: s.id))
    moderator_kind = draw(st.sampled_from(["none", "named", "unnamed"]))
    speakers = list(named)
    if moderator_kind == "named":
        moderator = draw(_speaker(True))
        if moderator.id not in {s.id for s in named}:
            speakers.append(moderator)
    elif moderator_kind == "unnamed":
        speakers.append(Speaker(MODERATOR_ID, "Moderator", None, draw(st.none() | phrases), True))
    outlets = draw(st.lists(st.none() | phrases, max_size=2, unique_by=lambda o: question_id(o)))
    speakers.extend(Speaker(question_id(outlet), "Question", None, outlet) for outlet in outlets)
    turns = draw(st.lists(_turn(speakers), min_size=0, max_size=8))
    if timed is None:
        timed = draw(st.booleans())
    segments = merge_turns(_timed(draw, turns) if timed else turns)
    speaking = {s.speaker_id for s in segments}
    # Keyword speakers exist only by speaking; named ones may be listed without speaking.
    speakers = [s for s in speakers if s.id in speaking or not is_keyword_speaker(s.id)]
    return build_transcript(speakers, segments)


def _turn(speakers: list[Speaker]) -> st.SearchStrategy[Turn]:
    return st.builds(
        lambda speaker, texts: Turn(speaker.id, tuple(texts)),
        st.sampled_from(speakers),
        st.lists(paragraphs(), min_size=1, max_size=3),
    )


def _timed(draw: st.DrawFn, turns: list[Turn]) -> list[Turn]:
    """Times as a subtitle file has them: each paragraph its own cue, gaps and overlaps
    between cues allowed."""
    clock = draw(st.integers(0, 10_000))
    timed = []
    for turn in turns:
        for paragraph in turn.paragraphs:
            start = max(0, clock + draw(st.integers(-500, 5_000)))
            clock = start + draw(st.integers(0, 60_000))
            timed.append(Turn(turn.speaker_id, (paragraph,), start / 1000, clock / 1000))
    return timed


__all__ = ["Segment", "paragraphs", "transcripts"]
