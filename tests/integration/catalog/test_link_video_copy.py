"""The video a download link is issued from may come from this process's copy of the last
second, and never survives a write made through the repository (an unpublish here is seen by
the next link at once)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from catalog.adapters import videos as videos_module
from catalog.adapters.videos import VideoRepository
from catalog.domain.demo import demo_videos
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.infra import MONGODB_URL, unique


@pytest.fixture
async def db() -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB_URL, tz_aware=True)
    name = unique("linkvideo")
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


async def test_a_write_through_the_repository_drops_the_copy(
    db: AsyncDatabase[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(videos_module, "LINK_VIDEO_SECONDS", 3600.0)  # no clock in the test
    videos = VideoRepository(db["videos"])
    video = demo_videos()[0]
    await videos.insert(video)
    first = await videos.get_for_link(video.slug)
    assert first is not None and first[0].published
    # Another replica unpublishes: this process goes on from its copy (for up to a second).
    await db["videos"].update_one({"_id": video.id}, {"$set": {"published": False}})
    kept = await videos.get_for_link(video.slug)
    assert kept is not None and kept[0].published
    # A write through the repository (here the unpublish itself) drops every copy at once.
    current = await videos.get(video.id)
    assert current is not None
    assert await videos.replace(current[0].model_copy(update={"published": False}), current[1])
    fresh = await videos.get_for_link(video.slug)
    assert fresh is not None and not fresh[0].published
    assert (await videos.get_for_link(video.id)) == fresh
