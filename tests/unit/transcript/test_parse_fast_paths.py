"""The parser's fast paths give what the general code gives: the merge of untimed turns without
a Turn per turn, the speaker registry's remembered answers, the roster's three-letter gate, a
short line's remembered classification, the account box's first-letter gate, a roster added
once per distinct entry."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st
from transcript.domain.formats.text import _register_roster, _short_line
from transcript.domain.furniture import _BOX_END_PREFIXES, box_end, line_furniture
from transcript.domain.labels import MAX_LABEL_CHARS, SpeakerRef, colon_label, parse_label
from transcript.domain.model import Turn, merge_turns, merge_untimed_turns
from transcript.domain.roster import (
    _MODERATION_HEAD,
    _SPEAKERS_CUE,
    ROSTER_HEADS,
    RosterEntry,
    parse_roster,
)
from transcript.domain.speakers import SpeakerRegistry
from transcript.domain.text import KEPT_WHITESPACE, fold, normalize_source, normalized_lines
from transcript.domain.vocabulary import SENTENCE_END

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


_LINE_PIECES = [
    *_LABELS,
    ":",
    " ",
    "Speakers included Jane Doe, Reuters.",
    "NATO MULTIMEDIA ACCOUNT",
    "(As delivered)",
    "12 January 2024",
    "Click the button to return",
    "Yes.",
    "x" * 60,
]
_SHORT_LINES = (
    st.lists(st.one_of(st.sampled_from(_LINE_PIECES), st.text(max_size=4)), min_size=1)
    .map(lambda pieces: "".join(pieces).strip()[:200])
    .filter(bool)
)


@settings(max_examples=300, deadline=None)
@given(_SHORT_LINES)
@example("Jane Doe: Hello.")
@example("NATO Secretary General Mark Rutte")
def test_a_short_lines_remembered_classification_is_its_checks(line: str) -> None:
    """What _classify once worked out per line: furniture, box, roster gate, then the label of
    "Label: text" or, for a line that may be a heading, of the line."""
    furniture, opens_box = line_furniture(line)
    colon = line.find(":", 0, MAX_LABEL_CHARS + 2)
    if colon > 0:
        ref = colon_label(line[:colon])
        text = line[colon + 1 :].strip() if ref is not None else ""
        heading = False
    elif len(line) <= MAX_LABEL_CHARS and line[-1] not in SENTENCE_END:
        ref, text, heading = parse_label(line), "", True
    else:
        ref, text, heading = None, "", False
    roster_head = line[:3] in ROSTER_HEADS
    assert _short_line(line) == (furniture, opens_box, roster_head, ref, text, heading)


def _box_end_of_every_line(lines: list[str], start: int) -> int | None:
    for index in range(start, len(lines)):
        line = lines[index]
        if 0 < len(line) < 200 and fold(line).startswith(_BOX_END_PREFIXES):
            return index
    return None


_CLOSERS = [
    "Click the button to return",
    "CLICK THE BUTTON TO RETURN to the page",
    "Ｃlick the button to return",  # fullwidth: folds to "click"
    "\u0301Click the button to return",  # a combining mark first: folded away
    "Çliquez sur le bouton pour revenir",
    "Cliquez  sur le bouton pour revenir",
    "Click the",
    "Create an account",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_CLOSERS), st.text(max_size=6).map(str.strip))))
def test_the_box_end_gate_folds_every_line_that_may_close_a_box(lines: list[str]) -> None:
    assert box_end(lines, 0) == _box_end_of_every_line(lines, 0)


@settings(max_examples=150, deadline=None)
@given(st.lists(_ROSTER, max_size=8), st.lists(st.integers(0, 7), max_size=12))
@example([("Jane Doe", None, None, False), ("Jane Doe", "Minister of Defence", "BBC", True)], [0])
def test_a_roster_added_once_per_distinct_entry_is_the_roster_added(
    entries: list[_RosterEntry], repeats: list[int]
) -> None:
    roster = [RosterEntry(*entry) for entry in entries]
    roster += [roster[i] for i in repeats if i < len(roster)]
    every, distinct = SpeakerRegistry(), SpeakerRegistry()
    for entry in roster:
        every.add(entry.name, entry.role, entry.affiliation, entry.is_moderator)
    _register_roster(roster, distinct)
    assert distinct.speakers() == every.speakers()
    for ref in _REFS:
        assert distinct.resolve(ref) == every.resolve(ref)


def test_a_remembered_roster_is_a_new_list_each_time() -> None:
    paragraph = "Speakers included Jane Doe, Reuters; John Roe. Moderated by Ann Lee, BBC."
    first = parse_roster(paragraph)
    assert first is not None and [entry.name for entry in first] == [
        "Jane Doe",
        "John Roe",
        "Ann Lee",
    ]
    first.clear()
    assert parse_roster(paragraph) == parse_roster(paragraph.replace("  ", " ")) != []
