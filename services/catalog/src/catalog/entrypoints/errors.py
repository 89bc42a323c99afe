"""The catalog's one error mapping: each domain error as an RFC 9457 problem document, on the
shared ``ProblemMapper`` (the handler and the OpenAPI ``responses`` come from this one
function, so what a route documents is what it answers)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from portal_shared.problems import (
    VALIDATION_DETAIL,
    VALIDATION_TITLE,
    ProblemMapper,
    ProblemSpec,
    validation_errors,
)

from catalog.domain.errors import (
    CatalogError,
    ConcurrentChange,
    DownloadDenied,
    DownloadNotFound,
    DownloadNotStarted,
    InvalidVideo,
    LinkRejected,
    MediaMissing,
    QuotaExceeded,
    ReissueLimitReached,
    RenditionChanged,
    RenditionNotFound,
    SlugTaken,
    VideoNotFound,
)
from catalog.domain.links import LinkVerdict

_DENIALS = {
    "not_verified": "Only verified accounts may download; confirm your email address first",
    "account_deleted": "This account has been deleted",
}
_LINKS = {
    LinkVerdict.MALFORMED: "The download link is incomplete",
    LinkVerdict.UNKNOWN_KEY: "The download link is no longer valid; ask for a new one",
    LinkVerdict.TAMPERED: "The download link is not valid",
    LinkVerdict.EXPIRED: "The download link has expired; ask for a new one",
    LinkVerdict.WRONG_USER: "This download link was issued to another account",
}


def to_problem(exc: CatalogError) -> ProblemSpec:
    """The answer of each domain error (the first case that matches)."""
    match exc:
        case VideoNotFound(published_only=True):
            return ProblemSpec(404, exc.code, "No such published video", detail=exc.reference)
        case VideoNotFound():
            return ProblemSpec(
                404, exc.code, "No such video", detail=f"No video {exc.reference!r}."
            )
        case SlugTaken():
            detail = f"Another video uses {exc.slug!r}."
            return ProblemSpec(
                409, exc.code, "The slug is taken", {"slug": exc.slug}, detail=detail
            )
        case ConcurrentChange():
            return ProblemSpec(409, exc.code, "The video changed meanwhile; try again")
        case InvalidVideo():
            errors = {"errors": validation_errors(exc.errors, "body")}
            return ProblemSpec(422, exc.code, VALIDATION_TITLE, errors, detail=VALIDATION_DETAIL)
        case DownloadDenied():
            return ProblemSpec(403, exc.code, _DENIALS.get(exc.code, "Downloads are not allowed"))
        case RenditionNotFound():
            title = "The video has no such rendition"
            return ProblemSpec(404, exc.code, title, detail=exc.rendition_id)
        case RenditionChanged():
            return ProblemSpec(404, exc.code, "This file was replaced; ask for a new link")
        case MediaMissing():
            return ProblemSpec(404, exc.code, "The file is not available right now")
        case DownloadNotFound():
            return ProblemSpec(404, exc.code, "No such download of yours")
        case DownloadNotStarted():
            detail = "Use the link you were given, or ask for a new download link."
            title = "Only a started download gets a fresh link"
            return ProblemSpec(409, exc.code, title, detail=detail)
        case QuotaExceeded():
            return ProblemSpec(
                429,
                exc.code,
                "Too many download links; try again later",
                {"retry_after": exc.retry_after},
                {"Retry-After": str(exc.retry_after)},
            )
        case ReissueLimitReached():
            title = "This download had all its fresh links"
            return ProblemSpec(409, exc.code, title, {"limit": exc.limit})
        case LinkRejected():
            return ProblemSpec(exc.verdict.http_status, exc.code, _LINKS[exc.verdict])
    return ProblemSpec(400, exc.code, "The request cannot be completed")


EXAMPLES: dict[str, CatalogError] = {
    "video_not_found": VideoNotFound("msc-2026-panel"),
    "published_video_not_found": VideoNotFound("msc-2026-panel", published_only=True),
    "slug_taken": SlugTaken("msc-2026-panel"),
    "concurrent_change": ConcurrentChange(),
    "not_verified": DownloadDenied("not_verified"),
    "account_deleted": DownloadDenied("account_deleted"),
    "rendition_not_found": RenditionNotFound("1080p50"),
    "rendition_changed": RenditionChanged(),
    "media_missing": MediaMissing(),
    "download_not_found": DownloadNotFound(),
    "download_not_started": DownloadNotStarted(),
    "download_quota_exceeded": QuotaExceeded(42),
    "reissue_limit_reached": ReissueLimitReached(5),
    **{f"link_{verdict.value}": LinkRejected(verdict) for verdict in _LINKS},
}

MAPPER = ProblemMapper(CatalogError, to_problem, EXAMPLES)


def install_error_handlers(app: FastAPI) -> None:
    MAPPER.install(app)


def problems(*names: str, validation: bool = True) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of a route: each named error with its example problem."""
    return MAPPER.responses(*names, validation=validation)
