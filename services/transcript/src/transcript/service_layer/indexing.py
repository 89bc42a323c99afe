"""Keeping search in step with stored revisions when an index write was lost.

Submitting indexes a revision for search right after storing it; if the process died in
between, the revision's TranscriptPublished (published by the relay from the outbox) brings
the index up to date here. Normally the index is already there and this is one read.
"""

from __future__ import annotations

from portal_shared.logging import get_logger

from transcript.service_layer.ports import Index, Revisions

log = get_logger(__name__)


class SearchRepair:
    def __init__(self, revisions: Revisions, index: Index) -> None:
        self.revisions = revisions
        self.index = index

    async def revision_published(self, video_id: str, revision: int) -> bool:
        """Index ``revision`` unless it (or a newer one) already is; True if it indexed."""
        indexed = await self.index.indexed_revision(video_id)
        if indexed is not None and indexed >= revision:
            return False
        stored = await self.revisions.get(video_id, revision)
        if stored is None:  # another deployment's transcript on a shared exchange
            log.warning("transcript_revision_unknown", video_id=video_id, revision=revision)
            return False
        await self.index.index(video_id, revision, stored.transcript)
        log.info("search_index_repaired", video_id=video_id, revision=revision)
        return True
