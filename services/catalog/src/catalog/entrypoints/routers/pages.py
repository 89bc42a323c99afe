"""/videos: the video pages (list with search and filters, a video with its renditions, usage
terms, credit line and download buttons) and /my/downloads, calling the catalog's own use
cases. Who is signed in comes from identity's ``portal_access`` cookie, verified with the JWKS
like a bearer token (see ``portal_shared.pages`` for the cookie design)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from portal_shared.auth import KeysUnavailable, Principal, TokenError
from portal_shared.pages import ACCESS_COOKIE, CsrfRejected, Pages, choose_language, static_file
from portal_shared.pagination import BadCursor
from pydantic import ValidationError

from catalog.context import catalog_of
from catalog.domain.errors import CatalogError
from catalog.domain.projection import may_download
from catalog.domain.search import SearchParams
from catalog.domain.transcripts import Turn, turns_of
from catalog.domain.videos import Video
from catalog.entrypoints.deps import DownloadsDep, SettingsDep, VideosDep
from catalog.entrypoints.errors import MAPPER
from catalog.entrypoints.texts import TEXTS
from catalog.service_layer.browsing import search_published
from catalog.service_layer.downloads import Downloads
from catalog.settings import CatalogSettings

router = APIRouter(include_in_schema=False)
FILTERS = ("q", "speaker", "event", "language", "sort")


@dataclass(frozen=True)
class Viewer:
    principal: Principal | None
    may_download: bool
    reason: str | None  # why not: not_verified, account_deleted


def _pages(request: Request, settings: CatalogSettings) -> Pages:
    return catalog_of(request.app).pages


async def _viewer(request: Request, downloads: Downloads) -> Viewer:
    token = request.cookies.get(ACCESS_COOKIE)
    if not token:
        return Viewer(None, False, None)
    try:
        principal = await catalog_of(request.app).access.verifier.verify(token)
        floor = await downloads.users.min_token_version(principal.user_id)
    except (TokenError, KeysUnavailable, httpx.HTTPError, ValueError):
        return Viewer(None, False, None)  # expired or revoked: sign in again (renews silently)
    if principal.token_version < floor:
        return Viewer(None, False, None)
    decision = may_download(await downloads.users.state(principal.user_id))
    return Viewer(principal, decision.allowed, decision.reason)


def _sentence(request: Request, code: str, **values: Any) -> str:
    texts = TEXTS[choose_language(request)]
    return texts.get(f"error_{code}", texts["error_validation_error"]).format(**values)


@router.get("/videos/static/{name}")
async def static(name: str) -> Response:
    found = static_file(name)
    if found is None:
        return Response(status_code=404)
    body, media_type = found
    return Response(body, media_type=media_type, headers={"Cache-Control": "max-age=3600"})


@router.get("/videos")
async def video_list(
    request: Request, videos: VideosDep, downloads: DownloadsDep, settings: SettingsDep
) -> HTMLResponse:
    given = {k: v for k in (*FILTERS, "cursor") if (v := request.query_params.get(k))}
    viewer = await _viewer(request, downloads)
    error, items, next_cursor = None, [], None
    try:
        params = SearchParams.model_validate(given)
        page = await search_published(videos, params)
        items, next_cursor = page.videos, page.next_cursor
    except ValidationError:
        error = _sentence(request, "validation_error")
    except BadCursor:
        error = _sentence(request, "bad_cursor")
    next_link = None
    if next_cursor:
        next_link = str(request.url.include_query_params(cursor=next_cursor))
    return _pages(request, settings).render(
        request,
        "videos.html",
        status=400 if error else 200,
        title_key="videos_title",
        filters={k: request.query_params.get(k, "") for k in FILTERS},
        videos=items,
        next_link=next_link,
        error=error,
        signed_in=viewer.principal is not None,
    )


async def _video_page(
    request: Request,
    video_ref: str,
    videos: VideosDep,
    downloads: Downloads,
    settings: CatalogSettings,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    pages = _pages(request, settings)
    video = await videos.get_published(video_ref)
    viewer = await _viewer(request, downloads)
    if video is None:
        return pages.render(
            request,
            "not_found.html",
            status=404,
            title_key="not_found_title",
            signed_in=viewer.principal is not None,
        )
    back = f"{settings.video_pages_url}/videos/{video.slug}"
    return pages.render(
        request,
        "video.html",
        status=status,
        title=video.title,
        title_key=None,
        video=video,
        viewer=viewer,
        signed_in=viewer.principal is not None,
        error=error,
        back=back,
        next_param=quote(back, safe=""),
        transcript=await _transcript(request, video),
    )


async def _transcript(request: Request, video: Video) -> list[Turn]:
    if video.transcript_revision is None:
        return []
    segments = catalog_of(request.app).segments
    return turns_of(await segments.of(video.id, video.transcript_revision))


@router.get("/videos/{video_ref}")
async def video_page(
    video_ref: str,
    request: Request,
    videos: VideosDep,
    downloads: DownloadsDep,
    settings: SettingsDep,
) -> HTMLResponse:
    return await _video_page(request, video_ref, videos, downloads, settings)


@router.post("/videos/{video_ref}/renditions/{rendition_id}/download")
async def download(
    video_ref: str,
    rendition_id: str,
    request: Request,
    videos: VideosDep,
    downloads: DownloadsDep,
    settings: SettingsDep,
) -> Response:
    pages = _pages(request, settings)
    try:
        await pages.form(request)
    except CsrfRejected:
        return await _video_page(
            request,
            video_ref,
            videos,
            downloads,
            settings,
            status=403,
            error=TEXTS[choose_language(request)].get("csrf_rejected") or "csrf",
        )
    viewer = await _viewer(request, downloads)
    back = f"{settings.video_pages_url}/videos/{video_ref}"
    if viewer.principal is None:
        return pages.redirect(f"{settings.account_pages_url}/account/sign-in?next={quote(back)}")
    try:
        issued = await downloads.authorize(
            user_id=viewer.principal.user_id, video_ref=video_ref, rendition_id=rendition_id
        )
    except CatalogError as error:
        problem = MAPPER.problem(error)
        seconds = problem.extra.get("retry_after", 0)
        return await _video_page(
            request,
            video_ref,
            videos,
            downloads,
            settings,
            status=problem.status,
            error=_sentence(request, problem.code, seconds=seconds),
        )
    return pages.redirect(issued.url)


@router.get("/my/downloads")
async def my_downloads(
    request: Request, downloads: DownloadsDep, settings: SettingsDep
) -> Response:
    pages = _pages(request, settings)
    viewer = await _viewer(request, downloads)
    if viewer.principal is None:
        here = quote(f"{settings.video_pages_url}/my/downloads")
        return pages.redirect(f"{settings.account_pages_url}/account/sign-in?next={here}")
    records = await downloads.records.list_for_user(viewer.principal.user_id, 100)
    return pages.render(
        request,
        "my_downloads.html",
        title_key="my_downloads_title",
        records=records,
        signed_in=True,
    )
