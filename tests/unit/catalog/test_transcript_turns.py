"""The video page's transcript: segments grouped into turns by speaker, in order."""

from __future__ import annotations

from catalog.domain.transcripts import Turn, segment_document, turns_of
from portal_shared.events.transcript import TranscriptSegmentPublished


def _segment(sequence: int, speaker: str, text: str) -> TranscriptSegmentPublished:
    return TranscriptSegmentPublished(
        transcript_id="t",
        video_id="panel-slug",
        revision=2,
        supersedes_revision=1,
        sequence=sequence,
        total=4,
        speaker_id=speaker.lower(),
        speaker_name=speaker,
        text=text,
        start=None,
        end=None,
        cues=[],
    )


def test_consecutive_segments_of_one_speaker_are_one_turn_in_sequence_order() -> None:
    documents = [
        segment_document("v1", _segment(3, "Rutte", "Second.")),
        segment_document("v1", _segment(0, "Amanpour", "Question?")),
        segment_document("v1", _segment(2, "Rutte", "First.")),
        segment_document("v1", _segment(1, "Amanpour", "Follow-up?")),
    ]
    assert turns_of(documents) == [
        Turn("Amanpour", ["Question?", "Follow-up?"]),
        Turn("Rutte", ["First.", "Second."]),
    ]


def test_a_segment_document_is_keyed_by_video_revision_and_place() -> None:
    document = segment_document("v1", _segment(7, "Rutte", "Text"))
    assert document["_id"] == "v1:2:000007"
    assert (document["videoId"], document["revision"], document["sequence"]) == ("v1", 2, 7)
    assert turns_of([]) == []
