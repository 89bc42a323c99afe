"""Properties: render/parse round trip, and the parser never crashes on arbitrary text."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from transcript.domain.errors import TranscriptParseError
from transcript.domain.export import to_plain_text
from transcript.domain.model import Transcript
from transcript.domain.parser import detect_format, parse
from transcript.domain.render import render

from .strategies import transcripts

PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(transcripts())
def test_parse_reads_back_what_render_wrote(transcript: Transcript) -> None:
    assert parse(render(transcript)) == transcript


@PROPERTY_SETTINGS
@given(transcripts(timed=False))
def test_parse_reads_back_inline_labels(transcript: Transcript) -> None:
    assert parse(to_plain_text(transcript, "labels")) == transcript


@PROPERTY_SETTINGS
@given(transcripts(timed=True))
def test_timed_transcripts_render_as_webvtt(transcript: Transcript) -> None:
    rendered = render(transcript)
    if transcript.segments:
        assert rendered.startswith("WEBVTT")


def _assert_well_formed(transcript: Transcript) -> None:
    ids = [s.id for s in transcript.speakers]
    assert len(ids) == len(set(ids))
    speaking = {s.speaker_id for s in transcript.segments}
    assert speaking <= set(ids)
    assert all(s.speaks == (s.id in speaking) for s in transcript.speakers)
    assert [s.index for s in transcript.segments] == list(range(len(transcript.segments)))
    for before, after in zip(transcript.segments, transcript.segments[1:], strict=False):
        assert before.speaker_id != after.speaker_id
    assert all(s.text.strip() for s in transcript.segments)


_LINE_PIECES = st.sampled_from(
    [
        "Mark Rutte",
        "Moderator:",
        "Question [",
        "]: ",
        "(Moderator)",
        "NATO Secretary General",
        "Speakers included ",
        "; ",
        ". Moderated by ",
        ", ",
        "Intervenants : ",
        "\n",
        "\n\n",
        "\r\n",
        "\ufeff",
        "\u00a0",
        "’",
        "Rutte: ",
        "de l’OTAN ",
        "<v ",
        ">",
        "-->",
        "00:00:01.000",
        "WEBVTT",
        "1\n",
        "NATO MULTIMEDIA ACCOUNT\n",
        "Click the button to return\n",
        "x" * 150,
    ]
)
_TEXTS = st.one_of(st.text(), st.lists(st.one_of(_LINE_PIECES, st.text(max_size=5))).map("".join))


@PROPERTY_SETTINGS
@given(_TEXTS)
@example("Rutte:\n\nMark Rutte\n\nx")
@example("Moderator: a\nModerated by B C.")
def test_parser_never_crashes_on_arbitrary_text(text: str) -> None:
    try:
        transcript = parse(text)
    except TranscriptParseError:
        # Only a file that announces itself as WebVTT or SRT may be refused.
        assert detect_format(text.removeprefix("\ufeff")) != "text"
        return
    _assert_well_formed(transcript)


@PROPERTY_SETTINGS
@given(st.sampled_from(["WEBVTT\n\n", "1\n00:00:01,000 --> 00:00:02,000\n"]), _TEXTS)
def test_timed_readers_refuse_garbage_with_a_parse_error(header: str, body: str) -> None:
    try:
        _assert_well_formed(parse(header + body))
    except TranscriptParseError as exc:
        assert str(exc)


@pytest.mark.parametrize("text", ["", "\n\n", "\ufeff", "Hello world."])
def test_text_without_speakers_gives_an_empty_transcript(text: str) -> None:
    assert parse(text).segments == ()
