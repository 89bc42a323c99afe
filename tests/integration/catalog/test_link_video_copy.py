"""The video a download link is issued from may come from this process's copy of the last
second, and never survives a write made through the repository (an unpublish here is seen by
the next link at once)."""

from __future__ import annotations

import asyncio
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


async def test_requests_waiting_for_an_expired_copy_share_one_read(
    db: AsyncDatabase[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the copy runs out, the links asked for meanwhile wait for one read of the video
    (was: each of the concurrent clients read it again); a write through the repository
    while that read is out is not overtaken: the link asked for after it reads afresh."""
    videos = VideoRepository(db["videos"])
    video = demo_videos()[0]
    await videos.insert(video)
    finds: list[Any] = []
    held = asyncio.Event()
    held.set()
    real_find_one = videos.collection.find_one

    async def counted(*args: Any, **kwargs: Any) -> Any:
        query = args[0] if args else kwargs.get("filter")
        found = await real_find_one(*args, **kwargs)
        if query == {"_id": video.id}:  # the link's read of the video (not the write's check)
            finds.append(query)
            await asyncio.wait_for(held.wait(), 10)  # its answer held back while the test writes
        return found

    monkeypatch.setattr(videos.collection, "find_one", counted)
    found = await asyncio.gather(*(videos.get_for_link(video.id) for _ in range(20)))
    assert len(finds) == 1 and all(f is not None and f[0].published for f in found)

    monkeypatch.setattr(videos_module, "LINK_VIDEO_SECONDS", 0.0)  # every call finds it stale
    current = await videos.get(video.id)
    assert current is not None
    held.clear()

    before_write = asyncio.ensure_future(videos.get_for_link(video.id))
    await asyncio.sleep(0.05)  # its read is out, its answer held back
    assert await videos.replace(current[0].model_copy(update={"published": False}), current[1])
    held.set()
    after_write = await videos.get_for_link(video.id)
    assert after_write is not None and not after_write[0].published
    stale = await before_write  # asked for before the write: it may have the old state
    assert stale is not None and stale[0].published
