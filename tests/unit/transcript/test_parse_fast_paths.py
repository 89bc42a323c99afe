"""The parser's fast paths give what the general code gives: the merge of untimed turns without
a Turn per turn, the speaker registry's remembered answers, the roster's three-letter gate."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st
from transcript.domain.labels import SpeakerRef, colon_label, parse_label
from transcript.domain.model import Turn, merge_turns, merge_untimed_turns
from transcript.domain.roster import (
    _MODERATION_HEAD,
    _SPEAKERS_CUE,
    ROSTER_HEADS,
)
from transcript.domain.speakers import SpeakerRegistry
from transcript.domain.text import KEPT_WHITESPACE, normalize_source, normalized_lines

_IDS = st.sampled_from(["mark-rutte", "moderator", "question--bbc"])
_AFFILIATIONS = st.sampled_from([None, "BBC", "Reuters"])
_UntimedTurn = tuple[str, str | None, list[str]]
_PARAGRAPHS = st.lists(st.sampled_from(["", "Yes.", "No, not at all.", "Thank you."]), max_size=3)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_IDS, _AFFILIATIONS, _PARAGRAPHS), max_size=12))
def test_untimed_merge_is_the_merge_of_turns(
    turns: list[tuple[str, str | None, list[str]]],
) -> None:
    as_turns = [Turn(sid, tuple(texts), affiliation=aff) for sid, aff, texts in turns]
    assert merge_untimed_turns(turns) == merge_turns(as_turns)


class _Unremembering(SpeakerRegistry):
    """The registry working every answer out again."""

    def resolve(self, ref: SpeakerRef) -> str:
        return self._resolve(ref)


_LABELS = [
    "Mark Rutte",
    "Rutte",
    "MARK RUTTE",
    "NATO Secretary General Mark Rutte",
    "Secretary General",
    "Moderator",
    "Christiane Amanpour (Moderator)",
    "Amanpour",
    "Question",
    "Question [Reuters]",
    "Jane Doe [Reuters]",
    "Jane Doe (BBC)",
    "Doe",
    "John Doe",
    "Minister of Defence",
    "Jane Doe, Minister of Defence",
]
_REFS = [ref for label in _LABELS for ref in (parse_label(label), colon_label(label)) if ref]
_RosterEntry = tuple[str, str | None, str | None, bool]
_ROSTER = st.tuples(
    st.sampled_from(["Jane Doe", "Mark Rutte", "John Doe"]),
    st.sampled_from([None, "Minister of Defence", "Secretary General"]),
    _AFFILIATIONS,
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_REFS), _ROSTER), max_size=25))
# "Doe" is Jane Doe until John Doe is added, then a speaker of its own.
@example([("Jane Doe", None, None, False), parse_label("Doe"), ("John Doe", None, None, False)])
def test_remembered_answers_are_the_answers(steps: list[SpeakerRef | _RosterEntry]) -> None:
    remembering, reference = SpeakerRegistry(), _Unremembering()
    for step in [*steps, *steps]:
        if isinstance(step, SpeakerRef):
            assert remembering.resolve(step) == reference.resolve(step)
        else:
            assert remembering.add(*step) == reference.add(*step)
        assert remembering.speakers() == reference.speakers()


_PIECES = ["a", " ", "  ", "\n", "\r", "\r\n", "\u2028", "\u200b", "\xa0", "\x1c"]
_ODD_TEXT = st.lists(st.sampled_from(_PIECES)).map("".join)


@settings(max_examples=200, deadline=None)
@given(_ODD_TEXT, st.integers(0, 8))
def test_lines_normalised_a_chunk_at_a_time_are_the_lines(source: str, chunk_chars: int) -> None:
    whole = [line.strip() for line in normalize_source(source).split("\n")]
    found = normalized_lines(source, chunk_chars)
    assert found.lines == whole
    assert found.space_runs or not any("  " in line for line in whole)
    assert found.kept_whitespace == any(c in source for c in KEPT_WHITESPACE)


_CUES = [
    "Speakers included",
    "Speaker:",
    "Panelists were",
    "Panellist",
    "Participants included",
    "Participantes",
    "Intervenants :",
    "Intervenantes et intervenants",
    "Orateurs :",
    "Oratrice",
    "Parmi les intervenants figuraient",
    "Avec la participation de",
    "Les intervenants étaient",
    "Moderated by",
    "Modération :",
    "Modérée par",
    "Animée par",
    "Animé par",
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_CUES), st.lists(st.booleans(), min_size=40, max_size=40))
@example("Les intervenants étaient", [False] * 39 + [True])  # "leſ"
@example("Animée par", [False] * 39 + [True])  # "anı"
def test_the_roster_gate_lets_every_cue_through(cue: str, upper: list[bool]) -> None:
    """Whatever the case of a cue, its first three letters pass the gate."""
    cased = "".join(c.upper() if up else c.lower() for c, up in zip(cue, upper, strict=False))
    if upper[-1]:  # the forms IGNORECASE also takes for s and i (not as the first letter)
        cased = cased[0] + cased[1:].replace("s", "ſ").replace("i", "ı")
    paragraph = f"{cased} Jane Doe, Reuters."
    assert _SPEAKERS_CUE.match(paragraph) or _MODERATION_HEAD.match(paragraph)
    assert paragraph[:3] in ROSTER_HEADS


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_the_roster_gate_turns_away_only_what_the_cues_do(paragraph: str) -> None:
    if paragraph[:3] not in ROSTER_HEADS:
        assert not _SPEAKERS_CUE.match(paragraph) and not _MODERATION_HEAD.match(paragraph)
