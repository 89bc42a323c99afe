"""Reading the public catalogue: a page of published videos, and one published video.

The JSON routes and the HTML pages both call these, so they find the same videos and answer
a missing one with the same domain error.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.adapters.videos import VideoRepository, to_video
from catalog.domain.errors import VideoNotFound
from catalog.domain.search import SearchParams, build_query, page_of
from catalog.domain.videos import Video


@dataclass(frozen=True)
class VideoPage:
    videos: list[Video]
    next_cursor: str | None


async def search_published(videos: VideoRepository, params: SearchParams) -> VideoPage:
    """The page of published videos ``params`` asks for (a foreign cursor: ``BadCursor``)."""
    page = page_of(await videos.search(build_query(params)), params)
    return VideoPage([to_video(row) for row in page.items], page.next_cursor)


async def published_video(videos: VideoRepository, reference: str) -> Video:
    """The published video with this id or slug, else ``VideoNotFound``."""
    video = await videos.get_published(reference)
    if video is None:
        raise VideoNotFound(reference, published_only=True)
    return video
