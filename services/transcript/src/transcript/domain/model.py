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
class Cue:
    """One timed source cue (or timed turn) merged into a segment, with its own times, so that
    subtitle exports re-emit the source's timings instead of interpolating them."""

    start: float
    end: float
    text: str


@dataclass(frozen=True, slots=True)
class Segment:
    """One speaker turn. ``text`` holds paragraphs separated by a blank line; ``cues`` the timed
    source cues it merges, in order (empty when the source had no times); ``affiliation`` the
    one this turn's label gave when it is not the speaker's own (a person labelled with two
    affiliations in one transcript), else None."""

    index: int
    speaker_id: str
    text: str
    start: float | None = None
    end: float | None = None
    cues: tuple[Cue, ...] = ()
    affiliation: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the cues as a list of objects."""
        return {**asdict(self), "cues": [asdict(cue) for cue in self.cues]}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Segment:
        """The inverse of ``as_dict`` (stored revisions from before ``cues`` or ``affiliation``
        have none)."""
        cues = tuple(Cue(**cue) for cue in values.get("cues") or ())
        return cls(**{**values, "cues": cues})


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
    """A turn before merging: who spoke, the paragraphs, the times if the source had any, and
    the affiliation its label gave when it is not the speaker's own."""

    speaker_id: str
    paragraphs: tuple[str, ...]
    start: float | None = None
    end: float | None = None
    affiliation: str | None = None


def merge_turns(turns: Iterable[Turn]) -> list[Segment]:
    """Merge consecutive turns of one speaker under one affiliation: start of the first, end of
    the last, and every timed turn kept as a cue with its own times."""
    segments: list[Segment] = []
    pending: list[str] = []
    cues: list[Cue] = []
    current: Turn | None = None
    end: float | None = None
    for turn in turns:
        paragraphs = [p for p in turn.paragraphs if p]
        if not paragraphs:
            continue
        if (
            current is None
            or current.speaker_id != turn.speaker_id
            or current.affiliation != turn.affiliation
        ):
            if current is not None:
                segments.append(_segment(len(segments), current, end, pending, cues))
            current, end, pending, cues = turn, turn.end, [], []
        elif turn.end is not None:
            end = turn.end
        pending.extend(paragraphs)
        if turn.start is not None and turn.end is not None:
            cues.append(Cue(turn.start, turn.end, "\n\n".join(paragraphs)))
    if current is not None:
        segments.append(_segment(len(segments), current, end, pending, cues))
    return segments


def _segment(
    index: int, turn: Turn, end: float | None, paragraphs: list[str], cues: list[Cue]
) -> Segment:
    text = "\n\n".join(paragraphs)
    return Segment(index, turn.speaker_id, text, turn.start, end, tuple(cues), turn.affiliation)


def merge_untimed_turns(turns: Iterable[tuple[str, str | None, list[str]]]) -> list[Segment]:
    """``merge_turns`` for turns without times, each given as (speaker id, affiliation,
    paragraphs): the same segments, without a Turn per turn (a text transcript of 10 MB has
    ~8,000 turns, and the parse is counted in microseconds per turn)."""
    segments: list[Segment] = []
    pending: list[str] = []
    current_id: str | None = None  # no turn yet
    current_affiliation: str | None = None
    for speaker_id, affiliation, paragraphs in turns:
        if not all(paragraphs):
            paragraphs = [p for p in paragraphs if p]
        if not paragraphs:
            continue
        if speaker_id != current_id or affiliation != current_affiliation:
            if current_id is not None:
                text = "\n\n".join(pending)
                segments.append(
                    untimed_segment(len(segments), current_id, text, current_affiliation)
                )
            current_id, current_affiliation, pending = speaker_id, affiliation, []
        pending += paragraphs
    if current_id is not None:
        text = "\n\n".join(pending)
        segments.append(untimed_segment(len(segments), current_id, text, current_affiliation))
    return segments


_set_slots = tuple(
    Segment.__dict__[name].__set__
    for name in ("index", "speaker_id", "text", "start", "end", "cues", "affiliation")
)


def untimed_segment(index: int, speaker_id: str, text: str, affiliation: str | None) -> Segment:
    """``Segment(index, speaker_id, text, affiliation=affiliation)``, its fields set through
    the slots' own setters: the frozen dataclass's ``__init__`` sets each of the seven through
    ``object.__setattr__``, 0.6 µs a segment against 0.35 (a text of 1 MB has ~800 turns)."""
    segment = object.__new__(Segment)
    set_index, set_speaker, set_text, set_start, set_end, set_cues, set_affiliation = _set_slots
    set_index(segment, index)
    set_speaker(segment, speaker_id)
    set_text(segment, text)
    set_start(segment, None)
    set_end(segment, None)
    set_cues(segment, ())
    set_affiliation(segment, affiliation)
    return segment


def build_transcript(speakers: Iterable[Speaker], segments: Iterable[Segment]) -> Transcript:
    """Put a transcript in canonical form.

    Speakers who speak come first, in order of their first turn, then the others as a roster
    lists them: participants, then moderators, each in the given order. ``speaks`` and segment
    indexes are recomputed, so equal content gives equal values.
    """
    segments = [s if s.index == i else replace(s, index=i) for i, s in enumerate(segments)]
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
