"""Exports: JSON contract, plain text, WebVTT and SRT, and their refusal without times."""

from __future__ import annotations

import json

import pytest
from transcript.domain.errors import UntimedTranscriptError
from transcript.domain.export import to_json, to_json_dict, to_plain_text, to_srt, to_webvtt
from transcript.domain.model import Segment, Speaker, build_transcript
from transcript.domain.parser import parse

SPEAKERS = [
    Speaker("mark-rutte", "Mark Rutte", "NATO Secretary General", None),
    Speaker("christiane-amanpour", "Christiane Amanpour", None, "CNN", is_moderator=True),
    Speaker("question", "Question", None, "Reuters"),
    Speaker("roberta-metsola", "Roberta Metsola", "President", "European Parliament"),
]
TIMED = build_transcript(
    SPEAKERS,
    [
        Segment(0, "christiane-amanpour", "Welcome <all> & hello.", 1.0, 2.5),
        Segment(1, "mark-rutte", "One.\n\nTwo, longer paragraph.", 3.0, 9.0),
        Segment(2, "question", "Why?", 9.5, 10.0),
    ],
)
# The unnamed questioner exists only by speaking, so this one leaves them out.
UNTIMED = build_transcript(
    [s for s in SPEAKERS if s.id != "question"], [Segment(0, "mark-rutte", "Hello.\n\nAgain.")]
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
    }
    assert to_json_dict(UNTIMED)["segments"][0]["start"] is None


def test_speakers_are_ordered_by_first_turn_then_roster_order() -> None:
    assert [(s.id, s.speaks) for s in TIMED.speakers] == [
        ("christiane-amanpour", True),
        ("mark-rutte", True),
        ("question", True),
        ("roberta-metsola", False),
    ]


def test_webvtt_export_has_voices_escapes_and_paragraph_times_split_by_length() -> None:
    vtt = to_webvtt(TIMED)
    assert vtt.startswith(
        "WEBVTT\n\nNOTE\nSpeakers included Mark Rutte, NATO Secretary General; Roberta"
    )
    assert (
        "00:00:01.000 --> 00:00:02.500\n<v Christiane Amanpour>Welcome &lt;all&gt; &amp; hello."
        in vtt
    )
    assert "00:00:03.000 --> 00:00:03.923\n<v Mark Rutte>One." in vtt
    assert "00:00:03.923 --> 00:00:09.000\n<v Mark Rutte>Two, longer paragraph." in vtt
    assert "<v Question [Reuters]>Why?" in vtt
    assert parse(vtt) == TIMED


def test_srt_export_labels_the_first_subtitle_of_each_turn() -> None:
    text = to_srt(TIMED)
    assert "1\n00:00:01,000 --> 00:00:02,500\nCHRISTIANE AMANPOUR: Welcome <all> & hello.\n" in text
    assert "3\n00:00:03,923 --> 00:00:09,000\nTwo, longer paragraph.\n" in text
    parsed = parse(text)
    assert [(s.speaker_id, s.start, s.end) for s in parsed.segments] == [
        ("christiane-amanpour", 1.0, 2.5),
        ("mark-rutte", 3.0, 9.0),
        ("question", 9.5, 10.0),
    ]


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
