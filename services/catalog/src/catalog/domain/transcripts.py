"""Speakers from the transcript service: the latest transcript revision names who speaks.

TranscriptPublished may arrive twice or out of order. Only a revision newer than the one
already applied changes the video; an older or equal one is ignored, so applying the
events in any order, any number of times, ends with the newest revision's speakers.
"""

from __future__ import annotations

from portal_shared.events.transcript import Speaker, TranscriptPublished

from catalog.domain.speakers import SpeakerCredit
from catalog.domain.videos import Video


class TranscriptForAnotherVideo(ValueError):
    """The event names a different video than the one it was applied to."""


def apply_transcript_published(video: Video, event: TranscriptPublished) -> Video:
    """The video with the event's speakers, or the same video if the revision is not newer."""
    if event.video_id != video.id:
        raise TranscriptForAnotherVideo(f"{event.video_id} is not {video.id}")
    if video.transcript_revision is not None and event.revision <= video.transcript_revision:
        return video
    speakers = [
        _credit(speaker) for speaker in event.speakers if speaker.speaks or speaker.is_moderator
    ]
    values = video.model_dump()
    values["transcriptRevision"] = event.revision
    values["transcriptSpeakers"] = [speaker.model_dump() for speaker in speakers]
    return Video.model_validate(values)


def _credit(speaker: Speaker) -> SpeakerCredit:
    return SpeakerCredit(
        name=speaker.name,
        role=speaker.role,
        affiliation=speaker.affiliation,
        is_moderator=speaker.is_moderator,
    )
