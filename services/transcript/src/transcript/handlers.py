"""Events the transcript service consumes: its own TranscriptPublished, to repair search, and
identity's SessionsRevoked, so editors' access tokens from before a password reset or "sign
out everywhere" are refused at once (``portal_shared.revocations``).

Submitting indexes a revision for search right after storing it; if the process died in
between, the revision's TranscriptPublished (published by the relay from the outbox) brings
the index up to date here. Normally the index is already there and this is one read.
"""

from __future__ import annotations

from portal_shared.bus import HandlerRegistry
from portal_shared.events.base import CloudEvent
from portal_shared.events.identity import SessionsRevoked
from portal_shared.events.transcript import TranscriptPublished
from portal_shared.logging import get_logger
from portal_shared.revocations import TokenVersionFloors

from transcript.adapters.revisions import RevisionRepository
from transcript.adapters.search_index import SearchIndex

log = get_logger(__name__)


def build_registry(
    revisions: RevisionRepository, index: SearchIndex, floors: TokenVersionFloors
) -> HandlerRegistry:
    registry = HandlerRegistry()

    async def on_transcript_published(event: TranscriptPublished, _: CloudEvent) -> None:
        indexed = await index.indexed_revision(event.video_id)
        if indexed is not None and indexed >= event.revision:
            return
        stored = await revisions.get(event.video_id, event.revision)
        if stored is None:  # another deployment's transcript on a shared exchange
            log.warning(
                "transcript_revision_unknown", video_id=event.video_id, revision=event.revision
            )
            return
        await index.index(event.video_id, event.revision, stored.transcript)
        log.info("search_index_repaired", video_id=event.video_id, revision=event.revision)

    registry.add(TranscriptPublished, on_transcript_published)
    registry.add(SessionsRevoked, floors.on_revoked)
    return registry
