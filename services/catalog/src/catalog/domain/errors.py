"""Domain errors of the catalog service.

Each error carries a stable ``code`` from ``portal_shared.error_codes``; the service layer
raises these only, and ``catalog.entrypoints.errors`` answers each as an RFC 9457 problem
document (status, title, extra members). Messages are for logs and never hold a secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from portal_shared.error_codes import ErrorCode

from catalog.domain.links import LinkVerdict


class CatalogError(Exception):
    """Base of every error the catalog raises on purpose."""

    code: str = ErrorCode.BAD_REQUEST  # a class's code; an instance may name a finer one

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.code)


class VideoNotFound(CatalogError):
    """No video (or, for the public and downloads, no published video) has this id or slug."""

    code = ErrorCode.VIDEO_NOT_FOUND

    def __init__(self, reference: str, *, published_only: bool = False) -> None:
        super().__init__(f"no video {reference!r}")
        self.reference = reference
        self.published_only = published_only


class SlugTaken(CatalogError):
    """Another video already has this slug."""

    code = ErrorCode.SLUG_TAKEN

    def __init__(self, slug: str) -> None:
        super().__init__(f"slug {slug!r} is taken")
        self.slug = slug


class ConcurrentChange(CatalogError):
    """The video kept changing under a change: the caller may try again."""

    code = ErrorCode.CONCURRENT_CHANGE


class InvalidVideo(CatalogError):
    """The change would break a rule of a video (pydantic's errors, input values left out)."""

    code = ErrorCode.VALIDATION_ERROR

    def __init__(self, errors: Iterable[Mapping[str, Any]]) -> None:
        self.errors = [dict(error) for error in errors]
        super().__init__(f"{len(self.errors)} rule(s) broken")


class DownloadDenied(CatalogError):
    """The account may not download: ``not_verified`` or ``account_deleted``."""

    code = ErrorCode.NOT_VERIFIED

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.code = ErrorCode(reason)  # ValueError for a reason that is no error code


class RenditionNotFound(CatalogError):
    code = ErrorCode.RENDITION_NOT_FOUND

    def __init__(self, rendition_id: str) -> None:
        super().__init__(f"no rendition {rendition_id!r}")
        self.rendition_id = rendition_id


class RenditionChanged(CatalogError):
    """The link names a file the rendition no longer has."""

    code = ErrorCode.RENDITION_CHANGED


class MediaMissing(CatalogError):
    """The rendition's file is not in storage."""

    code = ErrorCode.MEDIA_MISSING


class DownloadNotFound(CatalogError):
    """No download of this user has this id."""

    code = ErrorCode.DOWNLOAD_NOT_FOUND


class DownloadNotStarted(CatalogError):
    """A fresh link is only for a download whose bytes started flowing."""

    code = ErrorCode.DOWNLOAD_NOT_STARTED


class QuotaExceeded(CatalogError):
    code = ErrorCode.DOWNLOAD_QUOTA_EXCEEDED

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class ReissueLimitReached(CatalogError):
    code = ErrorCode.REISSUE_LIMIT_REACHED

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} fresh links")
        self.limit = limit


class LinkRejected(CatalogError):
    """A download link that does not pass its check (tampered, expired, another user's...)."""

    code = ErrorCode.LINK_TAMPERED

    def __init__(self, verdict: LinkVerdict) -> None:
        super().__init__(verdict.value)
        self.verdict = verdict
        self.code = ErrorCode(f"link_{verdict.value}")


class VideoNotKnownYet(CatalogError):
    """A transcript event names a video the catalog has not stored (yet): retry it later (the
    consumer's growing delays, then the parking lot where operators see it)."""

    code = ErrorCode.VIDEO_NOT_FOUND

    def __init__(self, reference: str) -> None:
        super().__init__(f"video {reference!r} not known yet")
        self.reference = reference
