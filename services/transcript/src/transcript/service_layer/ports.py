"""What the use cases need of storage, as protocols: the MongoDB adapters
(``adapters.revisions``, ``adapters.search_index``) in the service, fakes in the fast tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from portal_shared.events.base import CloudEvent

from transcript.adapters.revisions import RevisionSummary, StoredRevision
from transcript.adapters.search_index import SegmentHit
from transcript.domain.model import Transcript
from transcript.domain.search import SearchPosition


class Revisions(Protocol):
    async def allocate_revision(self, video_id: str, now: datetime) -> int: ...

    async def insert(self, stored: StoredRevision, events: Sequence[CloudEvent]) -> None: ...

    async def get(self, video_id: str, revision: int | None = None) -> StoredRevision | None: ...

    async def latest_summary(self, video_id: str) -> RevisionSummary | None: ...

    async def revision_numbers(self, video_id: str) -> list[int]: ...


class Index(Protocol):
    async def indexed_revision(self, video_id: str) -> int | None: ...

    async def index(self, video_id: str, revision: int, transcript: Transcript) -> None: ...

    async def search(
        self,
        terms: list[str],
        *,
        limit: int,
        video_id: str | None = None,
        after: SearchPosition | None = None,
    ) -> tuple[list[SegmentHit], bool]: ...
