"""Exports of a transcript: JSON (the CLI contract), plain text, WebVTT and SRT. Pure functions
from a Transcript to text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

import srt  # type: ignore[import-untyped]

from transcript.domain.errors import UntimedTranscriptError
from transcript.domain.model import Cue, Segment, Speaker, Transcript
from transcript.domain.roster import render_roster
from transcript.domain.speakers import MODERATOR_ID, is_keyword_speaker, is_question

TextStyle = Literal["labels", "headings"]
_VTT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def to_json_dict(transcript: Transcript) -> dict[str, Any]:
    """The shape `transcript parse` prints and other tools rely on."""
    return {
        "speakers": [
            {
                "id": s.id,
                "name": s.name,
                "role": s.role,
                "affiliation": s.affiliation,
                "is_moderator": s.is_moderator,
            }
            for s in transcript.speakers
        ],
        "segments": [s.as_dict() for s in transcript.segments],
    }


def to_json(transcript: Transcript, indent: int | None = 2) -> str:
    return json.dumps(to_json_dict(transcript), ensure_ascii=False, indent=indent)


def speaker_label(speaker: Speaker, shout: bool = False, affiliation: str | None = None) -> str:
    """How a heading or label names a speaker so that the parser finds the same speaker.

    ``affiliation`` is a turn's own (``Segment.affiliation``), written so that it reads back:
    "Moderator [BBC]", or "Mark Rutte (Prime Minister, Government of the Netherlands)" for a
    person with a role (a lone group after a name would read back as a role, so a person
    without one is named alone). ``shout`` capitalises the name as subtitles do, never the
    outlet, which stays as written.
    """
    name = speaker.name.upper() if shout else speaker.name
    keyword = is_question(speaker.id) or speaker.id == MODERATOR_ID
    if keyword and (affiliation or speaker.affiliation):
        return f"{name} [{affiliation or speaker.affiliation}]"
    if affiliation and speaker.role and not keyword:
        return f"{name} ({speaker.role}, {affiliation})"
    return name


def to_plain_text(transcript: Transcript, style: TextStyle = "headings") -> str:
    """The roster paragraph, then each turn as a heading block or as "Name: text"."""
    by_id = {s.id: s for s in transcript.speakers}
    blocks: list[str] = []
    roster = render_roster(s for s in transcript.speakers if not is_keyword_speaker(s.id))
    if roster:
        blocks.append(roster)
    for segment in transcript.segments:
        label = speaker_label(by_id[segment.speaker_id], affiliation=segment.affiliation)
        if style == "headings":
            blocks.extend((label, segment.text))
        else:
            blocks.append(f"{label}: {segment.text}")
    return "\n\n".join(blocks) + "\n"


def to_webvtt(transcript: Transcript) -> str:
    """WebVTT with a voice tag per cue and the roster in a NOTE block; one cue per paragraph."""
    _require_times(transcript)
    by_id = {s.id: s for s in transcript.speakers}
    blocks = ["WEBVTT"]
    roster = render_roster(s for s in transcript.speakers if not is_keyword_speaker(s.id))
    if roster:
        blocks.append("NOTE\n" + roster.replace("-->", "->"))
    for segment in transcript.segments:
        speaker = by_id[segment.speaker_id]
        voice = speaker_label(speaker, affiliation=segment.affiliation).replace(">", "")
        for start_ms, end_ms, paragraph in _paragraph_cues(segment):
            text = paragraph.translate(_VTT_ESCAPES)
            blocks.append(f"{_vtt_time(start_ms)} --> {_vtt_time(end_ms)}\n<v {voice}>{text}")
    return "\n\n".join(blocks) + "\n"


def to_srt(transcript: Transcript) -> str:
    """SRT, one subtitle per paragraph; a turn's first subtitle starts with "NAME:".

    SRT has no roster, so a person some of whose turns carry another affiliation has their own
    written on their first turn without one, so that it reads back as theirs."""
    _require_times(transcript)
    by_id = {s.id: s for s in transcript.speakers}
    own_pending = {s.speaker_id for s in transcript.segments if s.affiliation}
    subtitles: list[srt.Subtitle] = []
    for segment in transcript.segments:
        speaker = by_id[segment.speaker_id]
        affiliation = segment.affiliation
        if affiliation is None and speaker.id in own_pending:
            own_pending.discard(speaker.id)
            affiliation = speaker.affiliation
        label = speaker_label(speaker, shout=True, affiliation=affiliation)
        for number, (start_ms, end_ms, paragraph) in enumerate(_paragraph_cues(segment)):
            content = f"{label}: {paragraph}" if number == 0 else paragraph
            subtitles.append(
                srt.Subtitle(
                    len(subtitles) + 1,
                    srt.timedelta(milliseconds=start_ms),
                    srt.timedelta(milliseconds=end_ms),
                    content,
                )
            )
    composed: str = srt.compose(subtitles, reindex=False)
    return composed


def _require_times(transcript: Transcript) -> None:
    if not transcript.has_times:
        raise UntimedTranscriptError(
            "this transcript has no times (its source had none), so it cannot be a subtitle file"
        )


def _paragraph_cues(segment: Segment) -> Iterator[tuple[int, int, str]]:
    """One subtitle per paragraph of each source cue, at the cue's own times.

    Only a cue holding several paragraphs (or a stored segment from before cues were kept)
    has its span split over its paragraphs in proportion to their length, so that re-reading
    gives back the same start and end."""
    assert segment.start is not None and segment.end is not None
    for cue in segment.cues or (Cue(segment.start, segment.end, segment.text),):
        yield from _split_span(round(cue.start * 1000), round(cue.end * 1000), cue.text)


def _split_span(start_ms: int, end_ms: int, text: str) -> Iterator[tuple[int, int, str]]:
    paragraphs = text.split("\n\n")
    total = sum(len(p) for p in paragraphs) or 1
    done = 0
    cue_start = start_ms
    for number, paragraph in enumerate(paragraphs):
        done += len(paragraph)
        last = number == len(paragraphs) - 1
        cue_end = end_ms if last else start_ms + (end_ms - start_ms) * done // total
        yield cue_start, cue_end, paragraph
        cue_start = cue_end


def _vtt_time(milliseconds: int) -> str:
    seconds, ms = divmod(milliseconds, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{ms:03d}"
