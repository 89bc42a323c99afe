"""The transcript model: speakers and their turns (segments). Plain frozen values, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Speaker:
    """A person (or an unnamed questioner) the transcript names.

    Fields match ``portal_shared.events.transcript.Speaker``, so
    ``EventSpeaker(**speaker.as_dict())`` converts one.
    """

    id: str
    name: str
    role: str | None = None
    affiliation: str | None = None
    is_moderator: bool = False
    speaks: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Segment:
    """One speaker turn. ``text`` holds paragraphs separated by a blank line."""

    index: int
    speaker_id: str
    text: str
    start: float | None = None
    end: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Transcript:
    speakers: tuple[Speaker, ...]
    segments: tuple[Segment, ...]

    @property
    def has_times(self) -> bool:
        """True when every segment has a start and an end (subtitle exports need it)."""
        return bool(self.segments) and all(
            s.start is not None and s.end is not None for s in self.segments
        )

    def speaker(self, speaker_id: str) -> Speaker:
        for speaker in self.speakers:
            if speaker.id == speaker_id:
                return speaker
        raise KeyError(speaker_id)


@dataclass(frozen=True, slots=True)
class Turn:
    """A turn before merging: who spoke, the paragraphs, and the times if the source had any."""

    speaker_id: str
    paragraphs: tuple[str, ...]
    start: float | None = None
    end: float | None = None


def merge_turns(turns: Iterable[Turn]) -> list[Segment]:
    """Merge consecutive turns of one speaker: start of the first, end of the last."""
    segments: list[Segment] = []
    pending: list[str] = []
    current: Turn | None = None
    for turn in turns:
        paragraphs = [p for p in turn.paragraphs if p]
        if not paragraphs:
            continue
        if current is not None and current.speaker_id == turn.speaker_id:
            pending.extend(paragraphs)
            end = turn.end if turn.end is not None else current.end
            current = replace(current, end=end)
            continue
        if current is not None:
            segments.append(_segment(len(segments), current, pending))
        current, pending = turn, list(paragraphs)
    if current is not None:
        segments.append(_segment(len(segments), current, pending))
    return segments


def _segment(index: int, turn: Turn, paragraphs: list[str]) -> Segment:
    return Segment(index, turn.speaker_id, "\n\n".join(paragraphs), turn.start, turn.end)


def build_transcript(speakers: Iterable[Speaker], segments: Iterable[Segment]) -> Transcript:
    """Put a transcript in canonical form.

    Speakers who speak come first, in order of their first turn, then the others as a roster
    lists them: participants, then moderators, each in the given order. ``speaks`` and segment
    indexes are recomputed, so equal content gives equal values.
    """
    segments = [replace(s, index=i) for i, s in enumerate(segments)]
    first_turn: dict[str, int] = {}
    for segment in segments:
        first_turn.setdefault(segment.speaker_id, segment.index)

    def position(pair: tuple[int, Speaker]) -> tuple[int, int]:
        order, speaker = pair
        if speaker.id in first_turn:
            return 0, first_turn[speaker.id]
        return 1 + speaker.is_moderator, order

    ordered = sorted(enumerate(speakers), key=position)
    return Transcript(
        speakers=tuple(replace(s, speaks=s.id in first_turn) for _, s in ordered),
        segments=tuple(segments),
    )
