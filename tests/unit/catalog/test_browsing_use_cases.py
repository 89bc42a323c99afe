"""The public catalogue's read use cases (``service_layer.browsing``) over a fake repository
that evaluates the real query the search builds: which videos a page holds, how the next
page is reached, which domain error a missing video gives. Milliseconds, no database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from catalog.domain.errors import VideoNotFound
from catalog.domain.search import SearchParams
from catalog.domain.videos import VideoDraft, create_video
from catalog.service_layer.browsing import published_video, search_published
from portal_shared.pagination import BadCursor

from tests.unit.catalog.fakes import FakeVideos

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def videos(draft_data: dict[str, Any]) -> FakeVideos:
    """Five videos recorded on the 10th to 14th of February; the 12th is not published."""
    fake = FakeVideos()
    for day in range(10, 15):
        draft = {
            **draft_data,
            "slug": f"panel-{day}",
            "title": f"Panel of the {day}th",
            "recorded_on": f"2026-02-{day}",
            "published": day != 12,
        }
        video, _ = create_video(VideoDraft.model_validate(draft), video_id=f"v-{day}", now=START)
        fake.stored[video.id] = (video, 1)
    return fake


async def test_pages_walk_every_published_video_once_newest_first(videos: FakeVideos) -> None:
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        given = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await search_published(videos, SearchParams.model_validate(given))  # type: ignore[arg-type]  # a fake repository
        seen += [video.slug for video in page.videos]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["panel-14", "panel-13", "panel-11", "panel-10"]


async def test_the_last_page_has_no_next_cursor(videos: FakeVideos) -> None:
    page = await search_published(videos, SearchParams.model_validate({"limit": 4}))  # type: ignore[arg-type]
    assert len(page.videos) == 4 and page.next_cursor is None


async def test_a_cursor_of_another_sort_order_is_refused(videos: FakeVideos) -> None:
    newest = await search_published(videos, SearchParams.model_validate({"limit": 1}))  # type: ignore[arg-type]
    assert newest.next_cursor is not None
    oldest = SearchParams.model_validate({"sort": "oldest", "cursor": newest.next_cursor})
    with pytest.raises(BadCursor):
        await search_published(videos, oldest)  # type: ignore[arg-type]


async def test_a_published_video_is_found_by_id_or_slug(videos: FakeVideos) -> None:
    assert (await published_video(videos, "v-14")).slug == "panel-14"  # type: ignore[arg-type]
    assert (await published_video(videos, "panel-13")).id == "v-13"  # type: ignore[arg-type]


@pytest.mark.parametrize("reference", ["panel-12", "v-12", "no-such-video"])
async def test_an_unpublished_or_unknown_video_is_not_found(
    videos: FakeVideos, reference: str
) -> None:
    with pytest.raises(VideoNotFound):
        await published_video(videos, reference)  # type: ignore[arg-type]
