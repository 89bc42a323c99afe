"""Exports: JSON contract, plain text, WebVTT and SRT, and their refusal without times."""

from __future__ import annotations

import json
import re

import pytest
from transcript.domain.errors import UntimedTranscriptError
from transcript.domain.export import to_json, to_json_dict, to_plain_text, to_srt, to_webvtt
from transcript.domain.model import Cue, Segment, Speaker, Transcript, build_transcript
from transcript.domain.parser import parse

SPEAKERS = [
    Speaker("mark-rutte", "Mark Rutte", "NATO Secretary General", None),
    Speaker("christiane-amanpour", "Christiane Amanpour", None, "CNN", is_moderator=True),
    Speaker("question--reuters", "Question", None, "Reuters"),
    Speaker("roberta-metsola", "Roberta Metsola", "President", "European Parliament"),
]
TIMED = build_transcript(
    SPEAKERS,
    [
        Segment(
            0,
            "christiane-amanpour",
            "Welcome <all> & hello.",
            1.0,
            2.5,
            (Cue(1.0, 2.5, "Welcome <all> & hello."),),
        ),
        Segment(
            1,
            "mark-rutte",
            "One.\n\nTwo, longer paragraph.",
            3.0,
            9.0,
            (Cue(3.0, 4.0, "One."), Cue(7.25, 9.0, "Two, longer paragraph.")),
        ),
        Segment(2, "question--reuters", "Why?", 9.5, 10.0, (Cue(9.5, 10.0, "Why?"),)),
    ],
)
# The unnamed questioner exists only by speaking, so this one leaves them out.
UNTIMED = build_transcript(
    [s for s in SPEAKERS if s.id != "question--reuters"],
    [Segment(0, "mark-rutte", "Hello.\n\nAgain.")],
)


def test_json_follows_the_cli_contract() -> None:
    document = json.loads(to_json(TIMED))
    assert set(document) == {"speakers", "segments"}
    assert document["speakers"][0] == {
        "id": "christiane-amanpour",
        "name": "Christiane Amanpour",
        "role": None,
        "affiliation": "CNN",
        "is_moderator": True,
    }
    assert document["segments"][1] == {
        "index": 1,
        "speaker_id": "mark-rutte",
        "text": "One.\n\nTwo, longer paragraph.",
        "start": 3.0,
        "end": 9.0,
        "cues": [
            {"start": 3.0, "end": 4.0, "text": "One."},
            {"start": 7.25, "end": 9.0, "text": "Two, longer paragraph."},
        ],
        "affiliation": None,
    }
    assert to_json_dict(UNTIMED)["segments"][0]["start"] is None


def test_speakers_are_ordered_by_first_turn_then_roster_order() -> None:
    assert [(s.id, s.speaks) for s in TIMED.speakers] == [
        ("christiane-amanpour", True),
        ("mark-rutte", True),
        ("question--reuters", True),
        ("roberta-metsola", False),
    ]


def test_webvtt_export_has_voices_escapes_and_each_source_cue_at_its_own_times() -> None:
    vtt = to_webvtt(TIMED)
    assert vtt.startswith(
        "WEBVTT\n\nNOTE\nSpeakers included Mark Rutte, NATO Secretary General; Roberta"
    )
    assert (
        "00:00:01.000 --> 00:00:02.500\n<v Christiane Amanpour>Welcome &lt;all&gt; &amp; hello."
        in vtt
    )
    assert "00:00:03.000 --> 00:00:04.000\n<v Mark Rutte>One." in vtt
    assert "00:00:07.250 --> 00:00:09.000\n<v Mark Rutte>Two, longer paragraph." in vtt
    assert "<v Question [Reuters]>Why?" in vtt
    assert parse(vtt) == TIMED


def test_srt_export_labels_the_first_subtitle_of_each_turn() -> None:
    text = to_srt(TIMED)
    assert "1\n00:00:01,000 --> 00:00:02,500\nCHRISTIANE AMANPOUR: Welcome <all> & hello.\n" in text
    assert "3\n00:00:07,250 --> 00:00:09,000\nTwo, longer paragraph.\n" in text
    parsed = parse(text)

    def timings(transcript: Transcript) -> list[tuple[str, list[tuple[float, float]]]]:
        return [(s.speaker_id, [(c.start, c.end) for c in s.cues]) for s in transcript.segments]

    assert timings(parsed) == timings(TIMED)
    assert parsed.speaker("question--reuters").affiliation == "Reuters"


def test_a_stored_segment_without_cues_splits_its_span_by_paragraph_length() -> None:
    legacy = build_transcript(
        SPEAKERS[:1], [Segment(0, "mark-rutte", "One.\n\nTwo, longer paragraph.", 3.0, 9.0)]
    )
    vtt = to_webvtt(legacy)
    assert "00:00:03.000 --> 00:00:03.923\n<v Mark Rutte>One." in vtt
    assert "00:00:03.923 --> 00:00:09.000\n<v Mark Rutte>Two, longer paragraph." in vtt


# Cues with gaps, a cue with no voice of its own (it continues Mark Rutte's turn), two
# questioners from different outlets.
SOURCE_VTT = """WEBVTT

00:00:01.000 --> 00:00:04.000
<v Mark Rutte>We act.

00:00:09.000 --> 00:00:12.500
And we act fast, with all thirty-two Allies.

00:00:12.750 --> 00:00:13.000
<v Mark Rutte>Together.

00:00:13.000 --> 00:00:14.125
<v Question [Reuters]>When?

00:01:14.000 --> 00:01:15.000
<v Question [BBC]>How?
"""
_VTT_TIMES = re.compile(r"^(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})$", re.M)
_SRT_TIMES = re.compile(r"^(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})$", re.M)


def test_timed_webvtt_round_trips_with_the_source_timings_exactly() -> None:
    transcript = parse(SOURCE_VTT)
    assert [(s.speaker_id, s.start, s.end) for s in transcript.segments] == [
        ("mark-rutte", 1.0, 13.0),
        ("question--reuters", 13.0, 14.125),
        ("question--bbc", 74.0, 75.0),
    ]
    exported = to_webvtt(transcript)
    assert _VTT_TIMES.findall(exported) == _VTT_TIMES.findall(SOURCE_VTT)
    assert "<v Question [Reuters]>When?" in exported and "<v Question [BBC]>How?" in exported
    assert parse(exported) == transcript


def test_timed_webvtt_exported_as_srt_keeps_the_source_timings_exactly() -> None:
    transcript = parse(SOURCE_VTT)
    exported = to_srt(transcript)
    source_times = [
        (start.replace(".", ","), end.replace(".", ","))
        for start, end in _VTT_TIMES.findall(SOURCE_VTT)
    ]
    assert _SRT_TIMES.findall(exported) == source_times
    assert "QUESTION [Reuters]: When?" in exported and "QUESTION [BBC]: How?" in exported
    assert parse(exported) == transcript
    assert to_srt(parse(exported)) == exported


@pytest.mark.parametrize("exporter", [to_webvtt, to_srt])
def test_subtitle_exports_need_times(exporter) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UntimedTranscriptError, match="no times"):
        exporter(UNTIMED)


def test_plain_text_in_both_styles_reads_back_the_same() -> None:
    headings = to_plain_text(UNTIMED, "headings")
    labels = to_plain_text(UNTIMED, "labels")
    assert "\n\nMark Rutte\n\nHello.\n\nAgain.\n" in headings
    assert labels.endswith("\n\nMark Rutte: Hello.\n\nAgain.\n")
    assert parse(headings) == parse(labels) == UNTIMED
