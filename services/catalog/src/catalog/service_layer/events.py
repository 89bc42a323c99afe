"""What the catalog does with other services' events (``handlers.py`` subscribes these).

- UserVerified / UserDeleted keep the projection of who may download (see
  ``catalog.domain.projection``: duplicates and any order give the same state).
- SessionsRevoked raises the lowest access-token version still accepted for the user, so a
  token from before a password reset or "sign out everywhere" stops working here at once.
- TranscriptSegmentPublished: each segment is kept per video and revision, for the video page
  (the transcript by speaker); like TranscriptPublished it waits for an unknown video.
- TranscriptPublished names who speaks in a video; only a newer revision changes it. The
  event's ``video_id`` may be the video's id or its slug. A transcript for a video the
  catalog does not know (yet) raises ``VideoNotKnownYet``: retried with growing delays and
  then parked, visible to operators, rather than dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from portal_shared.events.base import CloudEvent
from portal_shared.events.identity import SessionsRevoked, UserDeleted, UserVerified
from portal_shared.events.transcript import TranscriptPublished, TranscriptSegmentPublished
from portal_shared.logging import get_logger

from catalog.adapters.locks import KeyedLocks
from catalog.domain.errors import ConcurrentChange, VideoNotKnownYet
from catalog.domain.projection import (
    ConditionalUpdate,
    deleted_update,
    revoked_update,
    verified_update,
)
from catalog.domain.transcripts import apply_transcript_published, segment_document
from catalog.domain.videos import Video

log = get_logger(__name__)
MAX_ATTEMPTS = 5


class Projection(Protocol):
    async def apply(self, update: ConditionalUpdate) -> bool: ...


class Videos(Protocol):
    locks: KeyedLocks

    async def get(self, video_id: str) -> tuple[Video, int] | None: ...

    async def get_by_id_or_slug(self, reference: str) -> tuple[Video, int] | None: ...

    async def replace(self, video: Video, rev: int) -> bool: ...


class Segments(Protocol):
    async def store(self, document: dict[str, Any]) -> None: ...


@dataclass
class CatalogEvents:
    users: Projection
    videos: Videos
    segments: Segments

    async def on_user_verified(self, event: UserVerified, _: CloudEvent) -> None:
        applied = await self.users.apply(verified_update(event))
        log.info(
            "projection_user_verified",
            user_id=event.user_id,
            account_version=event.account_version,
            applied=applied,
        )

    async def on_user_deleted(self, event: UserDeleted, _: CloudEvent) -> None:
        applied = await self.users.apply(deleted_update(event))
        log.info(
            "projection_user_deleted",
            user_id=event.user_id,
            account_version=event.account_version,
            applied=applied,
        )

    async def on_sessions_revoked(self, event: SessionsRevoked, _: CloudEvent) -> None:
        applied = await self.users.apply(revoked_update(event))
        log.info(
            "projection_sessions_revoked",
            user_id=event.user_id,
            token_version=event.token_version,
            applied=applied,
        )

    async def on_transcript_segment(self, event: TranscriptSegmentPublished, _: CloudEvent) -> None:
        found = await self.videos.get_by_id_or_slug(event.video_id)
        if found is None:
            raise VideoNotKnownYet(event.video_id)
        await self.segments.store(segment_document(found[0].id, event))

    async def on_transcript_published(self, event: TranscriptPublished, _: CloudEvent) -> None:
        await apply_transcript(self.videos, event)


async def apply_transcript(videos: Videos, event: TranscriptPublished) -> None:
    """The transcript's speakers on the video, if its revision is newer (compare-and-set)."""
    found = await videos.get_by_id_or_slug(event.video_id)
    if found is None:
        raise VideoNotKnownYet(event.video_id)
    video_id = found[0].id
    async with videos.locks.hold(video_id):
        for _ in range(MAX_ATTEMPTS):
            current = await videos.get(video_id)
            if current is None:
                raise VideoNotKnownYet(event.video_id)
            video, rev = current
            updated = apply_transcript_published(
                video, event.model_copy(update={"video_id": video_id})
            )
            if updated.transcript_revision == video.transcript_revision:
                log.info("transcript_stale", video_id=video_id, revision=event.revision)
                return
            if await videos.replace(updated, rev):
                log.info(
                    "transcript_speakers_applied",
                    video_id=video_id,
                    revision=event.revision,
                    speakers=len(updated.transcript_speakers),
                )
                return
    raise ConcurrentChange(event.video_id)
