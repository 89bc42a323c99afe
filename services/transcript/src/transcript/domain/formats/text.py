"""Plain-text transcripts: heading blocks ("Mark Rutte" or "Question:" on a line of its own,
then that speaker's paragraphs) and inline labels ("Name: text"), mixed freely.

Two linear passes: the first classifies lines, the second decides which labels really name a
speaker (see speakers.evidence_test) and groups the paragraphs into turns. Text before the first
speaker (titles, the roster, page furniture) is not part of any turn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from itertools import islice

from transcript.domain.furniture import MAX_FURNITURE_CHARS, box_end, line_furniture
from transcript.domain.labels import MAX_LABEL_CHARS, SpeakerRef, colon_label, parse_label
from transcript.domain.model import Transcript, build_transcript, merge_untimed_turns
from transcript.domain.roster import ROSTER_HEADS, RosterEntry, parse_roster
from transcript.domain.speakers import SpeakerRegistry, evidence_test, resolve_all
from transcript.domain.text import RUN_OF_SPACES, collapse, normalized_lines
from transcript.domain.vocabulary import SENTENCE_END

# A line of the text that may belong to a turn, as a plain tuple (a 10 MB upload has ~25,000 of
# them): the line, whether it starts a paragraph, the label it opens a turn with if it can
# (None for a line of speech), and the text after that label's colon ("" for a heading).
_Item = tuple[str, bool, SpeakerRef | None, str]
# A turn before its speaker is resolved: the label, and the lines of each paragraph.
_RawTurn = tuple[SpeakerRef, list[list[str]]]


def read_text(source: str) -> Transcript:
    source_lines = normalized_lines(source)
    roster, items = _classify(source_lines.lines)
    labelled = [ref for _, _, ref, _ in items if ref is not None]
    evidence, registry = SpeakerRegistry(), SpeakerRegistry()
    _register_roster(roster, evidence, registry)
    raw_turns = _assemble(items, evidence_test(evidence, labelled))
    speaker_ids = resolve_all(registry, [ref for ref, _ in raw_turns])
    # Lines are stripped and their odd spaces normalised: a paragraph needs collapsing only if
    # a line holds a run of spaces, or whitespace str.split knows and normalize_source keeps.
    join: Callable[[list[str]], str] = " ".join
    if source_lines.kept_whitespace:
        join = _collapse
    elif source_lines.space_runs:
        join = _join
    turn_affiliation = registry.turn_affiliation
    turns = [
        (speaker_id, turn_affiliation(speaker_id, ref.affiliation), list(map(join, paragraphs)))
        for speaker_id, (ref, paragraphs) in zip(speaker_ids, raw_turns, strict=True)
    ]
    return build_transcript(registry.speakers(), merge_untimed_turns(turns))


def _collapse(lines: list[str]) -> str:
    return collapse(" ".join(lines))


def _join(lines: list[str]) -> str:
    joined = " ".join(lines)
    return collapse(joined) if RUN_OF_SPACES.search(joined) else joined


def _register_roster(roster: list[RosterEntry], *registries: SpeakerRegistry) -> None:
    # An entry added again changes nothing (``add`` only fills in what is still missing), so
    # each distinct entry is added once, in order (a roster repeated on each pasted page).
    for entry in dict.fromkeys(roster):
        for registry in registries:
            registry.add(entry.name, entry.role, entry.affiliation, entry.is_moderator)


def _classify(lines: list[str]) -> tuple[list[RosterEntry], list[_Item]]:
    """The roster and the lines that may belong to a turn. An account box, from its first line
    to its closing one, is passed over as if blank, and so is a line of furniture."""
    roster: list[RosterEntry] = []
    items: list[_Item] = []
    append = items.append
    block_start = True
    boxes_close = True  # False once a box has no closing line: none opened later has one
    numbered = enumerate(lines)
    for index, line in numbered:
        if not line:
            block_start = True
            continue
        if len(line) > _MAX_SHORT_CHARS:
            # A long line (most of the text) is never furniture, a box or a heading: it is
            # speech, a roster, or a label and its speech.
            if block_start and line[:3] in ROSTER_HEADS:  # the check parse_roster starts with
                entries = parse_roster(line)
                if entries is not None:
                    roster.extend(entries)
                    continue
            colon = line.find(":", 0, MAX_LABEL_CHARS + 2)
            ref = colon_label(line[:colon]) if colon > 0 else None
            if ref is None:
                append((line, block_start, None, ""))
            else:
                append((line, block_start, ref, line[colon + 1 :].strip()))
            block_start = False
            continue
        furniture, opens_box, roster_head, ref, text, heading = _short_line(line)
        if opens_box and boxes_close:
            end = box_end(lines, index + 1)
            boxes_close = end is not None
            if end is not None:
                _skip(numbered, end - index)
                block_start = True
                continue
        if furniture:
            block_start = True
            continue
        if block_start and roster_head:
            entries = parse_roster(line)
            if entries is not None:
                roster.extend(entries)
                continue
        append((line, block_start, None if heading and not block_start else ref, text))
        block_start = False
    return roster, items


# Lines up to this long may be furniture (see furniture.line_furniture) or a heading.
_MAX_SHORT_CHARS = MAX_FURNITURE_CHARS
assert MAX_LABEL_CHARS < _MAX_SHORT_CHARS


# Short lines repeat (headings, furniture): what ``_classify`` needs to know of one is
# remembered, as one tuple (a lookup per line instead of three calls and a slice).
@lru_cache(maxsize=16384)
def _short_line(line: str) -> tuple[bool, bool, bool, SpeakerRef | None, str, bool]:
    """Of a stripped, non-blank line of at most _MAX_SHORT_CHARS: whether it is furniture,
    whether it may open an account box, whether it may be a roster (at a block's start), the
    label it opens a turn with and the text after that label's colon ("" for a heading), and
    whether that label is a heading's (which counts only at a block's start)."""
    furniture, opens_box = line_furniture(line)
    roster_head = line[:3] in ROSTER_HEADS  # the check parse_roster starts with
    colon = line.find(":", 0, MAX_LABEL_CHARS + 2)
    if colon > 0:
        ref = colon_label(line[:colon])
        text = line[colon + 1 :].strip() if ref is not None else ""
        return furniture, opens_box, roster_head, ref, text, False
    if len(line) <= MAX_LABEL_CHARS and line[-1] not in SENTENCE_END:
        return furniture, opens_box, roster_head, parse_label(line), "", True
    return furniture, opens_box, roster_head, None, "", False


def _skip(lines: Iterator[object], count: int) -> None:
    """Pass over ``count`` items (itertools' "consume": islice skips them without a loop here)."""
    next(islice(lines, count - 1, None), None)


def _assemble(
    items: list[_Item], counts_as_speaker: Callable[[SpeakerRef], bool]
) -> list[_RawTurn]:
    """Group lines into turns. A heading opens a turn only once text follows it, so a title
    line followed by another heading is dropped; lines before the first turn are dropped."""
    turns: list[_RawTurn] = []
    pending: SpeakerRef | None = None
    for line, starts_paragraph, ref, text in items:
        if ref is not None and counts_as_speaker(ref):
            if not text:  # a heading
                pending = ref
                continue
            turns.append((ref, [[text]]))
            pending = None
            continue
        if pending is not None:
            turns.append((pending, [[line]]))
            pending = None
        elif not turns:
            continue
        elif starts_paragraph:
            turns[-1][1].append([line])
        else:
            turns[-1][1][-1].append(line)
    return turns
