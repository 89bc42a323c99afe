"""Timed transcripts: WebVTT with voice tags (``<v Name>``) and SRT whose cue text starts with
"NAME:". Each cue is a paragraph; a cue with no speaker of its own continues the previous one.
A roster may stand in a WebVTT NOTE block (our own exports put it there).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

import srt  # type: ignore[import-untyped]
import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from transcript.domain.errors import TranscriptParseError
from transcript.domain.labels import MAX_LABEL_CHARS, SpeakerRef, colon_label, parse_label
from transcript.domain.model import Transcript, Turn, build_transcript, merge_turns
from transcript.domain.roster import RosterEntry, parse_roster
from transcript.domain.speakers import (
    UNKNOWN_ID,
    UNKNOWN_NAME,
    SpeakerRegistry,
    evidence_test,
    resolve_all,
)
from transcript.domain.text import collapse

_VOICE = re.compile(r"^<v(?:\.[^\s>]*)*(?:\s+([^>]*))?>")
# Tags never nest "<" inside, so this stays linear even on a stray "<".
_TAG = re.compile(r"<[^<>]*>")
_DIALOGUE_DASH = re.compile(r"^[-–—]\s*")


@dataclass(frozen=True, slots=True)
class _Cue:
    lines: tuple[str, ...]
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class _Piece:
    """Text of one cue spoken by one voice; ``ref`` None continues the previous speaker."""

    ref: SpeakerRef | None
    text: str
    start: float
    end: float


def read_webvtt(source: str) -> Transcript:
    try:
        document = webvtt.from_string(source, strict=True)
    except (MalformedFileError, MalformedCaptionError) as exc:
        raise TranscriptParseError(f"not a valid WebVTT file: {exc}") from exc
    comments = [*document.header_comments, *document.footer_comments]
    cues = []
    for caption in document.captions:
        comments.extend(caption.comments)
        start, end = caption.start_time.in_milliseconds(), caption.end_time.in_milliseconds()
        cues.append(_Cue(tuple(caption.lines), start / 1000, end / 1000))
    roster = [entry for text in comments for entry in parse_roster(collapse(text)) or []]
    return _transcript(roster, _pieces(cues, unescape=True))


def read_srt(source: str) -> Transcript:
    try:
        subtitles = list(srt.parse(source))
    except (srt.SRTParseError, ValueError) as exc:
        raise TranscriptParseError(f"not a valid SRT file: {exc}") from exc
    cues = (
        _Cue(tuple(s.content.split("\n")), s.start.total_seconds(), s.end.total_seconds())
        for s in subtitles
    )
    return _transcript([], _pieces(cues, unescape=False))


def _pieces(cues: Iterable[_Cue], unescape: bool) -> Iterator[_Piece]:
    for cue in cues:
        ref: SpeakerRef | None = None
        words: list[str] = []
        for raw in cue.lines:
            voice = _VOICE.match(raw)
            line = _TAG.sub("", raw)
            line = collapse(html.unescape(line) if unescape else line)
            line_ref = _voice_ref(voice[1]) if voice and voice[1] else None
            if line_ref is None and not voice:
                line_ref, line = _label(line)
            if line_ref is not None:
                if words:
                    yield _Piece(ref, " ".join(words), cue.start, cue.end)
                ref, words = line_ref, []
            if line:
                words.append(line)
        if words:
            yield _Piece(ref, " ".join(words), cue.start, cue.end)


def _voice_ref(voice: str) -> SpeakerRef:
    """A voice tag always names a speaker, even one like "Speaker 2" that is not name-like."""
    voice = collapse(voice)
    ref = parse_label(voice)
    if ref is None or ref.kind == "title":
        return SpeakerRef("person", voice, name=voice, explicit=True, tokens=(voice,))
    return replace(ref, explicit=True)


def _label(line: str) -> tuple[SpeakerRef | None, str]:
    """ "MARK RUTTE: text" or "- Question: text" at the start of a cue line."""
    bare = _DIALOGUE_DASH.sub("", line)
    colon = bare.find(":", 0, MAX_LABEL_CHARS + 2)
    if colon <= 0:
        return None, line
    ref = colon_label(bare[:colon])
    if ref is None:
        return None, line
    return ref, bare[colon + 1 :].strip()


def _transcript(roster: list[RosterEntry], pieces: Iterable[_Piece]) -> Transcript:
    pieces = list(pieces)
    registry = SpeakerRegistry()
    evidence = SpeakerRegistry()
    for known in (registry, evidence):
        for entry in roster:
            known.add(entry.name, entry.role, entry.affiliation, entry.is_moderator)
    labelled = [p.ref for p in pieces if p.ref is not None]
    counts_as_speaker = evidence_test(evidence, labelled)
    refs = [
        p.ref if p.ref is not None and _accepted(p.ref, counts_as_speaker) else None for p in pieces
    ]
    speaker_ids = iter(resolve_all(registry, [ref for ref in refs if ref is not None]))
    turns: list[Turn] = []
    current: str | None = None
    affiliation: str | None = None
    for piece, ref in zip(pieces, refs, strict=True):
        if ref is not None:
            current = next(speaker_ids)
            affiliation = ref.affiliation
        elif current is None:
            current = registry.add(UNKNOWN_NAME, speaker_id=UNKNOWN_ID)
        text = (
            piece.text
            if ref is not None or piece.ref is None
            else f"{piece.ref.label}: {piece.text}"
        )
        turns.append(Turn(current, (text,), piece.start, piece.end, affiliation))
    turns = [
        replace(turn, affiliation=registry.turn_affiliation(turn.speaker_id, turn.affiliation))
        for turn in turns
    ]
    return build_transcript(registry.speakers(), merge_turns(turns))


def _accepted(ref: SpeakerRef, counts_as_speaker: Callable[[SpeakerRef], bool]) -> bool:
    # Subtitles shout speaker names ("MARK RUTTE:"), which is evidence enough.
    return counts_as_speaker(ref) or ref.label.isupper()
