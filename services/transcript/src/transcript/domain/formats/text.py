"""Plain-text transcripts: heading blocks ("Mark Rutte" or "Question:" on a line of its own,
then that speaker's paragraphs) and inline labels ("Name: text"), mixed freely.

Two linear passes: the first classifies lines, the second decides which labels really name a
speaker (see speakers.evidence_test) and groups the paragraphs into turns. Text before the first
speaker (titles, the roster, page furniture) is not part of any turn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from transcript.domain.furniture import account_box_spans, is_furniture
from transcript.domain.labels import MAX_LABEL_CHARS, SpeakerRef, colon_label, parse_label
from transcript.domain.model import Transcript, Turn, build_transcript, merge_turns
from transcript.domain.roster import RosterEntry, parse_roster
from transcript.domain.speakers import SpeakerRegistry, evidence_test, resolve_all
from transcript.domain.text import collapse, normalize_source
from transcript.domain.vocabulary import SENTENCE_END

ItemKind = Literal["heading", "inline", "body"]


@dataclass(slots=True)
class _Item:
    kind: ItemKind
    line: str
    starts_paragraph: bool
    ref: SpeakerRef | None = None
    text: str = ""


@dataclass(slots=True)
class _RawTurn:
    ref: SpeakerRef
    paragraphs: list[list[str]] = field(default_factory=list)


def read_text(source: str) -> Transcript:
    lines = [line.strip() for line in normalize_source(source).split("\n")]
    for span in account_box_spans(lines):
        lines[span.start : span.stop] = [""] * len(span)
    roster, items = _classify(lines)
    labelled = [item.ref for item in items if item.ref is not None]
    evidence = SpeakerRegistry()
    _register_roster(evidence, roster)
    raw_turns = _assemble(items, evidence_test(evidence, labelled))
    registry = SpeakerRegistry()
    _register_roster(registry, roster)
    speaker_ids = resolve_all(registry, [turn.ref for turn in raw_turns])
    # Lines are stripped and their odd spaces normalised: a paragraph needs collapsing only if
    # a line holds a run of spaces, or whitespace str.split knows and normalize_source keeps.
    join = _collapse if any(c in source for c in _KEPT_WHITESPACE) else _join
    turns = (
        Turn(
            speaker_id,
            tuple(join(lines) for lines in turn.paragraphs),
            affiliation=registry.turn_affiliation(speaker_id, turn.ref.affiliation),
        )
        for speaker_id, turn in zip(speaker_ids, raw_turns, strict=True)
    )
    return build_transcript(registry.speakers(), merge_turns(turns))


_KEPT_WHITESPACE = "\x1c\x1d\x1e\x1f"


def _collapse(lines: list[str]) -> str:
    return collapse(" ".join(lines))


def _join(lines: list[str]) -> str:
    joined = " ".join(lines)
    return collapse(joined) if "  " in joined else joined


def _register_roster(registry: SpeakerRegistry, roster: list[RosterEntry]) -> None:
    for entry in roster:
        registry.add(entry.name, entry.role, entry.affiliation, entry.is_moderator)


def _classify(lines: list[str]) -> tuple[list[RosterEntry], list[_Item]]:
    roster: list[RosterEntry] = []
    items: list[_Item] = []
    block_start = True
    for line in lines:
        if not line or is_furniture(line):
            block_start = True
            continue
        entries = parse_roster(line) if block_start else None
        if entries is not None:
            roster.extend(entries)
            continue
        items.append(_labelled(line, block_start) or _Item("body", line, block_start))
        block_start = False
    return roster, items


def _labelled(line: str, block_start: bool) -> _Item | None:
    """A line that may open a turn: "Label: text", "Label:", or a heading on its own line."""
    colon = line.find(":", 0, MAX_LABEL_CHARS + 2)
    if colon > 0:
        ref = colon_label(line[:colon])
        if ref is None:
            return None
        text = line[colon + 1 :].strip()
        return _Item("inline" if text else "heading", line, block_start, ref, text)
    if block_start and len(line) <= MAX_LABEL_CHARS and line[-1] not in SENTENCE_END:
        ref = parse_label(line)
        return _Item("heading", line, block_start, ref) if ref else None
    return None


def _assemble(
    items: list[_Item], counts_as_speaker: Callable[[SpeakerRef], bool]
) -> list[_RawTurn]:
    """Group lines into turns. A heading opens a turn only once text follows it, so a title
    line followed by another heading is dropped; lines before the first turn are dropped."""
    turns: list[_RawTurn] = []
    pending: SpeakerRef | None = None
    for item in items:
        if item.ref is not None and counts_as_speaker(item.ref):
            if item.kind == "heading":
                pending = item.ref
                continue
            turns.append(_RawTurn(item.ref, [[item.text]]))
            pending = None
            continue
        if pending is not None:
            turns.append(_RawTurn(pending, [[item.line]]))
            pending = None
        elif not turns:
            continue
        elif item.starts_paragraph:
            turns[-1].paragraphs.append([item.line])
        else:
            turns[-1].paragraphs[-1].append(item.line)
    return turns
