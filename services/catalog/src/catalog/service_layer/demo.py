"""``catalog load-demo``: the demo catalogue, through the same repository as the API.

Idempotent: a video whose slug exists is left as it is (only published if an editor had
unpublished it); a new one is inserted unpublished-then-published, so its VideoPublished
event rides in the insert's outbox and the running service's relay sends it. Media files are
(re)written when missing or of the wrong size.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal_shared.clock import Clock

from catalog.adapters.storage import LocalMediaStorage
from catalog.adapters.videos import VideoRepository
from catalog.domain.demo import demo_media_bytes, demo_videos
from catalog.domain.videos import Video, publish
from catalog.service_layer.editing import cloudevents_for


@dataclass(frozen=True)
class DemoReport:
    inserted: int
    republished: int
    unchanged: int
    files_written: int


async def load_demo(
    videos: VideoRepository, storage: LocalMediaStorage, clock: Clock
) -> DemoReport:
    inserted = republished = unchanged = files = 0
    for demo in demo_videos():
        files += _write_media(demo, storage)
        now = clock()
        found = await videos.get_by_id_or_slug(demo.slug)
        if found is None:
            draft = Video.model_validate(
                {**demo.model_dump(), "published": False, "published_at": None}
            )
            video, event = publish(draft, now=now)
            await videos.insert(video, cloudevents_for(event, video.id, now))
            inserted += 1
        elif not found[0].published:
            video, event = publish(found[0], now=now)
            await videos.replace(video, found[1], cloudevents_for(event, video.id, now))
            republished += 1
        else:
            unchanged += 1
    return DemoReport(inserted, republished, unchanged, files)


def _write_media(video: Video, storage: LocalMediaStorage) -> int:
    written = 0
    for rendition in video.renditions:
        stored = storage.stat(rendition.storage_key)
        if stored is None or stored.size != rendition.file_size:
            storage.write(
                rendition.storage_key, demo_media_bytes(rendition.storage_key, rendition.file_size)
            )
            written += 1
    return written
