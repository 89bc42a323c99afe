"""WebVTT with voice tags and SRT with "NAME:" labels."""

from __future__ import annotations

import pytest
from transcript.domain.errors import TranscriptParseError
from transcript.domain.export import to_json_dict, to_srt, to_webvtt
from transcript.domain.parser import detect_format, parse

VTT = """WEBVTT

NOTE
Speakers included Mark Rutte, NATO Secretary General. Moderated by Christiane Amanpour, CNN.

1
00:00:01.000 --> 00:00:04.000
music

00:00:05.000 --> 00:00:07.500
<v Christiane Amanpour>Secretary General,
what can Ukraine expect?</v>

00:00:08.000 --> 00:00:10.000
<v.loud Mark Rutte>First, <i>two</i> things.

00:00:10.000 --> 00:01:12.250
<v Mark Rutte>Second &amp; last.

01:00:12.500 --> 01:00:14.000
<v Moderator>Thank you.
<v Rutte>You’re welcome.
"""


def test_webvtt_voices_times_and_roster() -> None:
    transcript = parse(VTT)
    assert [(s.speaker_id, s.text, s.start, s.end) for s in transcript.segments] == [
        ("unknown-speaker", "music", 1.0, 4.0),
        ("christiane-amanpour", "Secretary General, what can Ukraine expect?", 5.0, 7.5),
        ("mark-rutte", "First, two things.\n\nSecond & last.", 8.0, 72.25),
        ("christiane-amanpour", "Thank you.", 3612.5, 3614.0),
        ("mark-rutte", "You’re welcome.", 3612.5, 3614.0),
    ]
    assert transcript.speaker("mark-rutte").role == "NATO Secretary General"
    assert transcript.speaker("christiane-amanpour").is_moderator


def test_webvtt_voice_that_is_not_a_name_is_still_a_speaker() -> None:
    transcript = parse("WEBVTT\n\n00:00.000 --> 00:01.000\n<v Speaker 2>Hi.\n")
    assert [(s.id, s.name) for s in transcript.speakers] == [("speaker-2", "Speaker 2")]


def test_webvtt_cue_without_voice_continues_the_previous_speaker() -> None:
    transcript = parse(
        "WEBVTT\n\n00:00.000 --> 00:01.000\n<v Anna Berg>One.\n\n"
        "00:01.000 --> 00:02.000\nTwo.\n\n00:02.000 --> 00:03.000\nQuestion: Three?\n"
    )
    assert [(s.speaker_id, s.text, s.end) for s in transcript.segments] == [
        ("anna-berg", "One.\n\nTwo.", 2.0),
        ("question", "Three?", 3.0),
    ]


SRT = """1
00:00:01,000 --> 00:00:03,000
CHRISTIANE AMANPOUR: Secretary General,
what now?

2
00:00:03,500 --> 00:00:05,000
MARK RUTTE: We act.

3
00:00:05,000 --> 00:00:06,000
<i>And fast.</i>

4
00:00:06,000 --> 00:00:07,000
- QUESTION [BBC]: Really?
"""


def test_srt_with_shouted_labels() -> None:
    transcript = parse(SRT)
    assert [(s.speaker_id, s.text, s.start, s.end) for s in transcript.segments] == [
        ("christiane-amanpour", "Secretary General, what now?", 1.0, 3.0),
        ("mark-rutte", "We act.\n\nAnd fast.", 3.5, 6.0),
        ("question--bbc", "Really?", 6.0, 7.0),
    ]
    assert [s.name for s in transcript.speakers] == [
        "Christiane Amanpour",
        "Mark Rutte",
        "Question",
    ]
    assert transcript.speaker("question--bbc").affiliation == "BBC"


def test_srt_with_mixed_case_labels_each_used_once() -> None:
    transcript = parse(
        "1\n00:00:01,000 --> 00:00:02,000\nMark Rutte: Hello.\n\n"
        "2\n00:00:02,000 --> 00:00:03,500\nJohn Smith: Hi.\n"
    )
    assert [(s.speaker_id, s.text, s.start, s.end) for s in transcript.segments] == [
        ("mark-rutte", "Hello.", 1.0, 2.0),
        ("john-smith", "Hi.", 2.0, 3.5),
    ]


def test_srt_with_windows_line_endings_and_bom() -> None:
    transcript = parse("\ufeff" + SRT.replace("\n", "\r\n"))
    assert len(transcript.segments) == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("WEBVTT\n\n", "webvtt"),
        ("WEBVTT - title\n", "webvtt"),
        ("WEBVTTX\n", "text"),
        ("1\n00:00:01,000 --> 00:00:02,000\nx\n", "srt"),
        ("  12\r\n00:00:01.000 --> 00:00:02.000\n", "srt"),
        ("Mark Rutte: 1\n00:00:01,000", "text"),
    ],
)
def test_format_detection(text: str, expected: str) -> None:
    assert detect_format(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "WEBVTT\n\n00:00:01.000 --> 00:00:99.000\nx\n",
        "1\n00:00:01,000 --> 00:00:02,000\nx\n\n2\n00:00:0X,000 --> 00:00:03,000\ny\n",
    ],
)
def test_malformed_subtitle_files_raise_a_parse_error(text: str) -> None:
    with pytest.raises(TranscriptParseError):
        parse(text)


def test_webvtt_voices_with_two_affiliations_for_one_person_keep_both() -> None:
    vtt = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Moderator [CNN]>Welcome.\n\n"
        "00:00:02.000 --> 00:00:04.000\n"
        "<v Mark Rutte (Prime Minister, Government of the Netherlands)>Then.\n\n"
        "00:00:04.000 --> 00:00:05.000\nStill then.\n\n"
        "00:00:05.000 --> 00:00:07.000\n<v Mark Rutte (Prime Minister, NATO)>Now.\n\n"
        "00:00:07.000 --> 00:00:08.000\n<v Moderator [BBC]>Thanks.\n"
    )
    transcript = parse(vtt)
    assert transcript.speaker("mark-rutte").affiliation == "Government of the Netherlands"
    assert transcript.speaker("moderator").affiliation == "CNN"
    assert [(s.speaker_id, s.affiliation, s.start, s.end) for s in transcript.segments] == [
        ("moderator", None, 1.0, 2.0),
        ("mark-rutte", None, 2.0, 5.0),
        ("mark-rutte", "NATO", 5.0, 7.0),
        ("moderator", "BBC", 7.0, 8.0),
    ]
    exported = to_webvtt(transcript)
    assert "<v Mark Rutte (Prime Minister, NATO)>Now." in exported
    assert "<v Moderator [BBC]>Thanks." in exported
    assert parse(exported) == transcript
    segments = to_json_dict(transcript)["segments"]
    assert [s["affiliation"] for s in segments] == [None, None, "NATO", "BBC"]
    # SRT has no roster: Mark Rutte's own affiliation is written on his first turn.
    as_srt = to_srt(transcript)
    assert "MARK RUTTE (Prime Minister, Government of the Netherlands): Then." in as_srt
    assert "MARK RUTTE (Prime Minister, NATO): Now." in as_srt
    assert parse(as_srt) == transcript
