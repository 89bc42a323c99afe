"""In-memory stand-ins for the catalog's repositories, for fast tests of its use cases.

They keep the contracts the use cases rely on (compare-and-set on a revision, unique slugs,
a download record per id, the quota's sliding window) and record what was written, so a
test can say what a use case stored and which events rode along.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from catalog.adapters.locks import KeyedLocks
from catalog.adapters.storage import StoredFile
from catalog.domain.documents import to_document
from catalog.domain.errors import SlugTaken
from catalog.domain.projection import ProjectionState
from catalog.domain.quota import QuotaDecision, quota_decision, within_window
from catalog.domain.search import Query
from catalog.domain.videos import Video
from portal_shared.events.base import CloudEvent

from tests.unit.catalog.conftest import find_documents


@dataclass
class FakeVideos:
    stored: dict[str, tuple[Video, int]] = field(default_factory=dict)
    events: list[CloudEvent] = field(default_factory=list)
    locks: KeyedLocks = field(default_factory=KeyedLocks)
    lose_races: int = 0  # the next N replaces find another writer's revision

    async def get(self, video_id: str) -> tuple[Video, int] | None:
        return self.stored.get(video_id)

    async def get_by_id_or_slug(self, reference: str) -> tuple[Video, int] | None:
        if reference in self.stored:
            return self.stored[reference]
        return next((v for v in self.stored.values() if v[0].slug == reference), None)

    async def get_for_link(self, reference: str) -> tuple[Video, int] | None:
        return await self.get_by_id_or_slug(reference)  # no copies kept: always fresh

    async def get_published(self, reference: str) -> Video | None:
        found = await self.get_by_id_or_slug(reference)
        return found[0] if found is not None and found[0].published else None

    async def search(self, query: Query) -> list[dict[str, Any]]:
        documents = [to_document(video) for video, _ in self.stored.values()]
        return find_documents(documents, query.filter, query.sort, query.limit)

    async def insert(self, video: Video, events: Sequence[CloudEvent] = ()) -> None:
        if any(v.slug == video.slug for v, _ in self.stored.values()):
            raise SlugTaken(video.slug)
        self.stored[video.id] = (video, 1)
        self.events.extend(events)

    async def replace(self, video: Video, rev: int, events: Sequence[CloudEvent] = ()) -> bool:
        if any(v.slug == video.slug and v.id != video.id for v, _ in self.stored.values()):
            raise SlugTaken(video.slug)
        if self.lose_races:
            self.lose_races -= 1
            return False
        if self.stored[video.id][1] != rev:
            return False
        self.stored[video.id] = (video, rev + 1)
        self.events.extend(events)
        return True


@dataclass
class FakeUsers:
    states: dict[str, ProjectionState] = field(default_factory=dict)

    def verify(self, user_id: str) -> None:
        self.states[user_id] = ProjectionState(user_id, 1, verified=True, deleted=False)

    def delete(self, user_id: str) -> None:
        self.states[user_id] = ProjectionState(user_id, 2, verified=True, deleted=True)

    async def state(self, user_id: str) -> ProjectionState | None:
        return self.states.get(user_id)

    def remembers(self, user_id: str) -> bool:
        return False  # no authentication read to answer from: every read is the fake's

    async def document(self, user_id: str) -> dict[str, Any] | None:
        state = self.states.get(user_id)
        return None if state is None else state.to_document()


@dataclass
class FakeQuota:
    issues: dict[str, list[datetime]] = field(default_factory=dict)

    async def get(self, user_id: str) -> dict[str, Any] | None:
        issued = self.issues.get(user_id)
        return None if issued is None else {"_id": user_id, "issues": list(issued)}

    async def take(
        self,
        user_id: str,
        *,
        now: datetime,
        limit: int,
        window: timedelta,
        first_read: dict[str, Any] | None,
    ) -> QuotaDecision:
        issued = self.issues.get(user_id)
        decision = quota_decision(issued or [], now=now, limit=limit, window=window)
        if decision.allowed:
            self.issues[user_id] = [*within_window(issued or [], now, window), now]
            return QuotaDecision(True, decision.remaining, 0, first_issue=issued is None)
        return decision


@dataclass
class FakeRecords:
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[CloudEvent] = field(default_factory=list)

    async def insert(self, document: dict[str, Any], events: Sequence[CloudEvent]) -> bool:
        self.documents[document["_id"]] = copy.deepcopy(document)
        self.events.extend(events)
        return False  # no relay took it over: the use case nudges

    async def get(self, download_id: str) -> dict[str, Any] | None:
        found = self.documents.get(download_id)
        return None if found is None else copy.deepcopy(found)

    async def mark_started(self, download_id: str, now: datetime) -> None:
        record = self.documents[download_id]
        if record["startedAt"] is None:
            record["startedAt"] = now

    async def take_reissue(
        self,
        download_id: str,
        *,
        user_id: str,
        limit: int,
        expires_at: datetime,
        events: Sequence[CloudEvent],
        require_started: bool = True,
    ) -> bool:
        record = self.documents.get(download_id)
        if record is None or record["userId"] != user_id or record["reissueCount"] >= limit:
            return False
        if require_started and record["startedAt"] is None:
            return False
        record["reissueCount"] += 1
        record["expiresAt"] = expires_at
        self.events.extend(events)
        return True


@dataclass
class FakeStorage:
    sizes: dict[str, int] = field(default_factory=dict)

    def stat(self, storage_key: str) -> StoredFile | None:
        size = self.sizes.get(storage_key)
        return None if size is None else StoredFile(Path("/media") / storage_key, size, 0)

    async def stream(
        self, stored: StoredFile, start: int, length: int, chunk: int
    ) -> AsyncIterator[bytes]:
        yield b"\0" * length


@dataclass
class Nudges:
    count: int = 0

    def __call__(self) -> None:
        self.count += 1
