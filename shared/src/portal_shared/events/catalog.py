"""Events of the catalog service."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from portal_shared.events.base import Event


class _CatalogEvent(Event):
    producer: ClassVar[str] = "catalog"


class VideoPublished(_CatalogEvent):
    video_id: str
    slug: str
    title: str
    recorded_on: date | None
    languages: list[str]
    published_at: datetime


class VideoUnpublished(_CatalogEvent):
    video_id: str
    unpublished_at: datetime


class DownloadAuthorized(_CatalogEvent):
    download_id: str
    user_id: str
    video_id: str
    rendition_id: str
    authorized_at: datetime
    expires_at: datetime


ALL = (VideoPublished, VideoUnpublished, DownloadAuthorized)
