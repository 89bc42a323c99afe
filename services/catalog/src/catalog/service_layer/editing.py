"""Editors' use cases: create, change, publish and unpublish videos.

Each change is read -> pure domain function -> compare-and-set write carrying the events it
caused (outbox); a lost race re-reads and re-applies the same change. Errors are the
domain's (``catalog.domain.errors``): a change that breaks a rule of a video is
``InvalidVideo`` with pydantic's errors, never an HTTP problem.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from portal_shared.clock import Clock
from portal_shared.events.base import CloudEvent, Event
from portal_shared.logging import audit, get_logger
from portal_shared.producing import new_event
from pydantic import ValidationError

from catalog.adapters.videos import VideoRepository
from catalog.domain.errors import ConcurrentChange, InvalidVideo, VideoNotFound
from catalog.domain.videos import (
    Video,
    VideoDraft,
    VideoPatch,
    apply_patch,
    create_video,
    publish,
    unpublish,
)

log = get_logger(__name__)
SOURCE = "/catalog"
MAX_ATTEMPTS = 5
Change = Callable[[Video, datetime], tuple[Video, Event | None]]


@dataclass
class Editing:
    videos: VideoRepository
    clock: Clock
    nudge: Callable[[], None]

    async def create(self, draft: VideoDraft, *, editor_id: str) -> Video:
        now = self.clock()
        with _rules_kept():
            video, event = create_video(draft, video_id=str(uuid.uuid4()), now=now)
        await self.videos.insert(video, cloudevents_for(event, video.id, now))  # SlugTaken
        self._after_write(event)
        audit(log, "video_created", outcome="success", user_id=editor_id, video_id=video.id)
        return video

    async def update(self, video_id: str, patch: VideoPatch, *, editor_id: str) -> Video:
        video = await self._change(video_id, lambda v, now: (apply_patch(v, patch, now=now), None))
        audit(log, "video_updated", outcome="success", user_id=editor_id, video_id=video_id)
        return video

    async def publish(self, video_id: str, *, editor_id: str) -> Video:
        video = await self._change(video_id, lambda v, now: publish(v, now=now))
        audit(log, "video_published", outcome="success", user_id=editor_id, video_id=video_id)
        return video

    async def unpublish(self, video_id: str, *, editor_id: str) -> Video:
        video = await self._change(video_id, lambda v, now: unpublish(v, now=now))
        audit(log, "video_unpublished", outcome="success", user_id=editor_id, video_id=video_id)
        return video

    async def get(self, video_id: str) -> Video:
        found = await self.videos.get_by_id_or_slug(video_id)
        if found is None:
            raise VideoNotFound(video_id)
        return found[0]

    async def _change(self, video_id: str, change: Change) -> Video:
        """Apply ``change`` with optimistic locking (InvalidVideo if it breaks a rule)."""
        async with self.videos.locks.hold(video_id):
            return await self._change_held(video_id, change)

    async def _change_held(self, video_id: str, change: Change) -> Video:
        for _ in range(MAX_ATTEMPTS):
            found = await self.videos.get(video_id)
            if found is None:
                raise VideoNotFound(video_id)
            current, rev = found
            now = self.clock()
            with _rules_kept():
                changed, event = change(current, now)
            if changed == current and event is None:
                return current  # nothing to write (publishing a published video)
            # SlugTaken (a domain error) comes from the repository as it is.
            if await self.videos.replace(changed, rev, cloudevents_for(event, video_id, now)):
                self._after_write(event)
                return changed
        raise ConcurrentChange(video_id)

    def _after_write(self, event: Event | None) -> None:
        if event is not None:
            self.nudge()


def cloudevents_for(event: Event | None, video_id: str, now: datetime) -> list[CloudEvent]:
    if event is None:
        return []
    return [new_event(event, source=SOURCE, subject=video_id, time=now)]


@contextmanager
def _rules_kept() -> Iterator[None]:
    """pydantic's ValidationError of a domain function as the domain's InvalidVideo."""
    try:
        yield
    except ValidationError as exc:
        raise InvalidVideo(exc.errors(include_input=False, include_url=False)) from None
