"""Download use cases: authorise (issue a link), reissue, and check a link before serving.

Checks, in order: who asks (the route: 401), may they download (projection: 403
``not_verified``/``account_deleted``), does the rendition exist and is its video published
(404), quota (429 with Retry-After). Then the link is signed and the download record with
its DownloadAuthorized event is inserted in one write.

Serving trusts the signed link (browsers following it send no token): it is bound to the
user in its signature, and the user/rendition binding was checked when it was issued. The
serving check still asks the projection, so a deleted account's links stop working at once.

Reissue (a fresh link for a download whose bytes already started flowing, e.g. a resume
after the link expired) does not count against the issuance quota: it continues a download
the quota already paid for. It is capped per download (``reissue_limit``) instead, so it
cannot be used to mint links without limit. With nginx ``secure_link`` links the catalog
never serves the bytes and cannot see a download start, so there only the cap applies.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from portal_shared.clock import Clock
from portal_shared.logging import audit, get_logger
from portal_shared.producing import new_event

from catalog.adapters.downloads import DownloadRepository
from catalog.adapters.storage import LocalMediaStorage, StoredFile
from catalog.adapters.users import AccessChanged, LinkQuota, VerifiedUsers, projection_of
from catalog.adapters.videos import VideoRepository
from catalog.domain.downloads import download_document
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
from catalog.domain.links import IssuedLink, Keyring, LinkVerdict, issue_link, verify_link
from catalog.domain.projection import Decision, ProjectionState, may_download
from catalog.domain.renditions import Rendition
from catalog.domain.secure_link import nginx_secure_link_path, nginx_secure_link_url
from catalog.domain.videos import Video
from catalog.settings import CatalogSettings

log = get_logger(__name__)
SOURCE = "/catalog"


@dataclass(frozen=True)
class IssuedDownload:
    download_id: str
    url: str
    expires_at: datetime
    video_id: str
    rendition_id: str
    file_name: str


@dataclass(frozen=True)
class ServableFile:
    download_id: str
    rendition: Rendition
    stored: StoredFile


@dataclass
class Downloads:
    videos: VideoRepository
    users: VerifiedUsers
    quota: LinkQuota
    records: DownloadRepository
    storage: LocalMediaStorage
    keyring: Keyring
    settings: CatalogSettings
    clock: Clock
    nudge: Callable[[], None]
    nginx_secret: str | None = None

    async def authorize(self, *, user_id: str, video_ref: str, rendition_id: str) -> IssuedDownload:
        now = self.clock()
        if self.users.remembers(user_id):  # read at authentication: neither read waits, mostly
            document = await self.users.document(user_id)
            found = await self.videos.get_for_link(video_ref)
        else:
            found, document = await asyncio.gather(
                self.videos.get_for_link(video_ref), self.users.document(user_id)
            )
        _require_allowed(projection_of(document), user_id, "download_authorized")
        video, rendition = _published_rendition(found, video_ref, rendition_id)
        try:
            quota = await self.quota.take(
                user_id,
                now=now,
                limit=self.settings.quota_limit,
                window=self.settings.quota_window,
                first_read=document,
            )
        except AccessChanged as changed:  # deleted or unverified since the read
            _require_allowed(changed.state, user_id, "download_authorized")
            raise
        if not quota.allowed:
            audit(log, "download_authorized", outcome="denied", user_id=user_id, reason="quota")
            raise QuotaExceeded(quota.retry_after)
        link = self._sign(str(uuid.uuid4()), video, rendition, user_id, now)
        cloudevent = new_event(link.event, source=SOURCE, subject=link.claims.download_id, time=now)
        document = download_document(link, key_id=self.keyring.active_kid)
        if not await self.records.insert(document, [cloudevent]):
            self.nudge()  # the relay runs in another process, or not yet
        audit(
            log,
            "download_authorized",
            outcome="success",
            user_id=user_id,
            video_id=video.id,
            rendition_id=rendition.id,
            download_id=link.claims.download_id,
        )
        if quota.first_issue:
            # The account funnel's last step (registration -> verification -> first download).
            audit(log, "first_download_link", outcome="success", user_id=user_id)
        return self._issued(link, rendition, user_id)

    async def reissue(self, *, user_id: str, download_id: str) -> IssuedDownload:
        now = self.clock()
        record, state = await asyncio.gather(
            self.records.get(download_id), self.users.state(user_id)
        )
        if record is None or record.get("userId") != user_id:
            raise DownloadNotFound(download_id)
        _require_allowed(state, user_id, "download_reissued")
        # With nginx links the bytes never pass through the catalog, so it cannot know that a
        # download started; the per-download cap alone bounds reissues there.
        require_started = self.settings.link_form != "nginx"
        if require_started and record.get("startedAt") is None:
            raise DownloadNotStarted(download_id)
        found = await self.videos.get(record["videoId"])
        video, rendition = _published_rendition(found, record["videoId"], record["renditionId"])
        link = self._sign(download_id, video, rendition, user_id, now)
        cloudevent = new_event(link.event, source=SOURCE, subject=download_id, time=now)
        taken = await self.records.take_reissue(
            download_id,
            user_id=user_id,
            limit=self.settings.reissue_limit,
            expires_at=link.expires_at,
            events=[cloudevent],
            require_started=require_started,
        )
        if not taken:
            raise ReissueLimitReached(self.settings.reissue_limit)
        self.nudge()
        audit(log, "download_reissued", outcome="success", user_id=user_id, download_id=download_id)
        return self._issued(link, rendition, user_id)

    async def open_link(
        self,
        *,
        download_id: str,
        file_name: str,
        query: Mapping[str, str],
        requester_id: str | None,
    ) -> ServableFile:
        """The file a link grants; LinkRejected (tampered, unknown key, expired...) if none."""
        check = verify_link(
            keyring=self.keyring,
            download_id=download_id,
            file_name=file_name,
            query=query,
            now=self.clock(),
            requester_id=requester_id,
        )
        if check.verdict is not LinkVerdict.OK or check.claims is None:
            raise LinkRejected(check.verdict)
        claims = check.claims
        found, state = await asyncio.gather(
            self.videos.get(claims.video_id), self.users.state(claims.user_id)
        )
        _require_allowed(state, claims.user_id, "download_served")
        _, rendition = _published_rendition(found, claims.video_id, claims.rendition_id)
        if rendition.file_name != file_name:
            raise RenditionChanged(rendition.id)
        stored = self.storage.stat(rendition.storage_key)
        if stored is None:
            log.error("media_file_missing", video_id=claims.video_id, rendition_id=rendition.id)
            raise MediaMissing(rendition.id)
        return ServableFile(download_id, rendition, stored)

    async def started(self, download_id: str) -> None:
        await self.records.mark_started(download_id, self.clock())

    def _sign(
        self, download_id: str, video: Video, rendition: Rendition, user_id: str, now: datetime
    ) -> IssuedLink:
        return issue_link(
            keyring=self.keyring,
            download_id=download_id,
            file_name=rendition.file_name,
            user_id=user_id,
            video_id=video.id,
            rendition_id=rendition.id,
            now=now,
            ttl=self.settings.link_ttl,
        )

    def _issued(self, link: IssuedLink, rendition: Rendition, user_id: str) -> IssuedDownload:
        claims = link.claims
        if self.settings.link_form == "nginx" and self.nginx_secret:
            uri = nginx_secure_link_path(
                user_id=user_id, download_id=claims.download_id, storage_key=rendition.storage_key
            )
            url = self.settings.nginx_files_base_url.rstrip("/") + nginx_secure_link_url(
                uri, claims.expires, self.nginx_secret, rendition.file_name
            )
        else:
            url = self.settings.base_url.rstrip("/") + link.url
        return IssuedDownload(
            claims.download_id,
            url,
            link.expires_at,
            claims.video_id,
            claims.rendition_id,
            claims.file_name,
        )


def _require_allowed(state: ProjectionState | None, user_id: str, action: str) -> None:
    _require_decision(may_download(state), user_id, action)


def _require_decision(decision: Decision, user_id: str, action: str) -> None:
    if decision.allowed:
        return
    reason = decision.reason or "not_verified"
    audit(log, action, outcome="denied", user_id=user_id, reason=reason)
    raise DownloadDenied(reason)


def _published_rendition(
    found: tuple[Video, int] | None, video_ref: str, rendition_id: str
) -> tuple[Video, Rendition]:
    if found is None or not found[0].published:
        raise VideoNotFound(video_ref, published_only=True)
    rendition = found[0].rendition(rendition_id)
    if rendition is None:
        raise RenditionNotFound(rendition_id)
    return found[0], rendition
