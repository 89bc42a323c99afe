"""The download use cases (``service_layer.downloads``) with in-memory fakes: who gets a link,
the quota, reissues, and the checks before a file is served. Milliseconds, no database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from catalog.domain.errors import (
    DownloadDenied,
    DownloadNotFound,
    DownloadNotStarted,
    LinkRejected,
    MediaMissing,
    QuotaExceeded,
    ReissueLimitReached,
    RenditionChanged,
    RenditionNotFound,
    VideoNotFound,
)
from catalog.domain.links import Keyring, LinkVerdict
from catalog.domain.videos import Video, VideoDraft, create_video
from catalog.service_layer.downloads import Downloads, IssuedDownload
from catalog.settings import CatalogSettings
from portal_shared.clock import ManualClock
from portal_shared.events.catalog import DownloadAuthorized

from tests.unit.catalog.fakes import (
    FakeQuota,
    FakeRecords,
    FakeStorage,
    FakeUsers,
    FakeVideos,
    Nudges,
)

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
USER = "a" * 32
KEYRING = Keyring(active_kid="k1", keys={"k1": b"k" * 32})


class World:
    """A Downloads use case over fakes, with one published video (rendition 1080p50)."""

    def __init__(self, draft: dict[str, Any], **settings: Any) -> None:
        self.clock = ManualClock(START)
        self.videos, self.users, self.quota = FakeVideos(), FakeUsers(), FakeQuota()
        self.records, self.storage, self.nudges = FakeRecords(), FakeStorage(), Nudges()
        self.settings = CatalogSettings(quota_limit=2, reissue_limit=1, **settings)
        self.downloads = Downloads(
            videos=self.videos,  # type: ignore[arg-type]  # fakes of the repositories
            users=self.users,  # type: ignore[arg-type]
            quota=self.quota,  # type: ignore[arg-type]
            records=self.records,  # type: ignore[arg-type]
            storage=self.storage,  # type: ignore[arg-type]
            keyring=KEYRING,
            settings=self.settings,
            clock=self.clock,
            nudge=self.nudges,
            nginx_secret=None,
        )
        video, _ = create_video(
            VideoDraft.model_validate({**draft, "published": True}), video_id="v-1", now=START
        )
        self.video: Video = video
        self.videos.stored[video.id] = (video, 1)
        rendition = video.renditions[0]
        self.storage.sizes[rendition.storage_key] = rendition.file_size
        self.users.verify(USER)

    async def link(self, user_id: str = USER) -> IssuedDownload:
        return await self.downloads.authorize(
            user_id=user_id, video_ref="msc-panel", rendition_id="1080p50"
        )

    async def open(self, issued: IssuedDownload, requester: str | None = None) -> Any:
        parts = urlsplit(issued.url)
        download_id, file_name = parts.path.split("/")[-2:]
        return await self.downloads.open_link(
            download_id=download_id,
            file_name=file_name,
            query=dict(parse_qsl(parts.query)),
            requester_id=requester,
        )


@pytest.fixture
def world(draft_data: dict[str, Any]) -> World:
    return World(draft_data)


async def test_a_verified_user_gets_a_signed_link_and_one_record_with_its_event(
    world: World,
) -> None:
    issued = await world.link()
    base = world.settings.base_url.rstrip("/")
    assert issued.url.startswith(f"{base}/v1/downloads/{issued.download_id}/panel_1080p50.mp4?")
    assert (issued.video_id, issued.rendition_id) == ("v-1", "1080p50")
    record = world.records.documents[issued.download_id]
    assert (record["userId"], record["startedAt"], record["reissueCount"]) == (USER, None, 0)
    assert "url" not in record and "sig" not in str(record)  # the capability is never stored
    [event] = world.records.events
    assert event.type == DownloadAuthorized.event_type() and event.subject == issued.download_id
    assert world.nudges.count == 1
    servable = await world.open(issued)
    assert (
        servable.rendition.id == "1080p50" and servable.stored.size == servable.rendition.file_size
    )


@pytest.mark.parametrize(
    ("reason", "set_up"), [("not_verified", None), ("account_deleted", "delete")]
)
async def test_who_may_not_download_gets_the_reason(
    world: World, reason: str, set_up: str | None
) -> None:
    user = "b" * 32
    if set_up == "delete":
        world.users.delete(user)
    with pytest.raises(DownloadDenied) as caught:
        await world.link(user)
    assert caught.value.code == reason and world.records.documents == {}


async def test_the_quota_refuses_with_retry_after_then_frees_up(world: World) -> None:
    await world.link()
    await world.link()
    with pytest.raises(QuotaExceeded) as caught:
        await world.link()
    assert caught.value.retry_after == world.settings.quota_window_seconds
    assert len(world.records.documents) == 2
    world.clock.advance(seconds=world.settings.quota_window_seconds)
    await world.link()
    assert len(world.records.documents) == 3


async def test_unpublished_or_unknown_renditions_are_not_found(world: World) -> None:
    with pytest.raises(RenditionNotFound):
        await world.downloads.authorize(user_id=USER, video_ref="v-1", rendition_id="4k")
    with pytest.raises(VideoNotFound) as caught:
        await world.downloads.authorize(user_id=USER, video_ref="nope", rendition_id="1080p50")
    assert caught.value.published_only
    hidden = world.video.model_copy(update={"published": False})
    world.videos.stored["v-1"] = (hidden, 2)
    with pytest.raises(VideoNotFound):
        await world.link()


async def test_a_reissue_needs_a_started_download_and_is_capped(world: World) -> None:
    issued = await world.link()
    with pytest.raises(DownloadNotStarted):
        await world.downloads.reissue(user_id=USER, download_id=issued.download_id)
    await world.downloads.started(issued.download_id)
    world.clock.advance(minutes=5)
    fresh = await world.downloads.reissue(user_id=USER, download_id=issued.download_id)
    assert fresh.download_id == issued.download_id and fresh.url != issued.url
    assert world.records.documents[issued.download_id]["reissueCount"] == 1
    with pytest.raises(ReissueLimitReached) as caught:
        await world.downloads.reissue(user_id=USER, download_id=issued.download_id)
    assert caught.value.limit == 1
    with pytest.raises(DownloadNotFound):  # another user's download is nobody's to them
        await world.downloads.reissue(user_id="c" * 32, download_id=issued.download_id)
    assert world.quota.issues[USER] == [START]  # reissues never spent the quota


async def test_serving_checks_the_link_then_the_account_then_the_file(world: World) -> None:
    issued = await world.link()
    tampered = IssuedDownload(**{**issued.__dict__, "url": issued.url.replace("sig=", "sig=0")})
    with pytest.raises(LinkRejected) as caught:
        await world.open(tampered)
    assert caught.value.verdict is LinkVerdict.TAMPERED and caught.value.code == "link_tampered"
    with pytest.raises(LinkRejected) as caught:
        await world.open(issued, requester="d" * 32)
    assert caught.value.code == "link_wrong_user"
    world.storage.sizes.clear()
    with pytest.raises(MediaMissing):
        await world.open(issued)
    world.users.delete(USER)  # a deleted account's links stop working at once
    with pytest.raises(DownloadDenied):
        await world.open(issued)
    world.clock.advance(seconds=world.settings.link_ttl_seconds + 1)
    with pytest.raises(LinkRejected) as caught:
        await world.open(issued)
    assert caught.value.code == "link_expired"


async def test_a_replaced_file_needs_a_new_link(world: World) -> None:
    issued = await world.link()
    rendition = world.video.renditions[0].model_copy(update={"file_name": "other.mp4"})
    world.videos.stored["v-1"] = (world.video.model_copy(update={"renditions": [rendition]}), 2)
    with pytest.raises(RenditionChanged):
        await world.open(issued)


async def test_started_is_recorded_once(world: World) -> None:
    issued = await world.link()
    await world.downloads.started(issued.download_id)
    first = world.records.documents[issued.download_id]["startedAt"]
    world.clock.advance(minutes=1)
    await world.downloads.started(issued.download_id)
    assert world.records.documents[issued.download_id]["startedAt"] == first == START
