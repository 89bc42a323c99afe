"""Public catalogue: list and search published videos, a video's page, its JSON-LD."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from portal_shared.list_params import DEFAULT_LIMIT, Cursor, Limit
from portal_shared.pagination import Page
from portal_shared.problems import validation_errors, validation_problem
from pydantic import ValidationError

from catalog.domain.jsonld import to_jsonld
from catalog.domain.search import LANGUAGE_CODES, SearchParams, SortOrder
from catalog.domain.videos import VideoDetail, VideoSummary, to_detail, to_summary
from catalog.entrypoints.deps import SettingsDep, VideosDep
from catalog.entrypoints.errors import problems
from catalog.service_layer.browsing import published_video, search_published

router = APIRouter(prefix="/v1/videos", tags=["videos"])
JSONLD = "application/ld+json"
_JSONLD_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {JSONLD: {"schema": {"type": "object"}}}},
}


# A calendar date as written (YYYY-MM-DD); SearchParams parses it (a bare number is no date).
_DATE: dict[str, Any] = {
    "pattern": r"^\d{4}-\d{2}-\d{2}$",
    "json_schema_extra": {"format": "date"},
}


VideoPage = Page[VideoSummary]


@router.get(
    "",
    summary="List and search published videos",
    response_model=VideoPage,
    responses=problems(),
)
async def list_videos(
    videos: VideosDep,
    q: Annotated[
        str | None, Query(max_length=200, description="words in title, description, tags...")
    ] = None,
    event: Annotated[str | None, Query(max_length=200, description="words of the event")] = None,
    speaker: Annotated[
        str | None, Query(max_length=120, description="a speaker's name or part of it")
    ] = None,
    language: Annotated[
        str | None,
        Query(
            description="ISO 639-1 code",
            examples=["en"],
            json_schema_extra={"enum": list(LANGUAGE_CODES)},
        ),
    ] = None,
    recorded_from: Annotated[
        str | None,
        Query(examples=["2026-01-01"], **_DATE),
    ] = None,
    recorded_to: Annotated[str | None, Query(examples=["2026-12-31"], **_DATE)] = None,
    sort: Annotated[SortOrder, Query()] = "newest",
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> VideoPage:
    given = {
        "q": q,
        "event": event,
        "speaker": speaker,
        "language": language,
        "recorded_from": recorded_from,
        "recorded_to": recorded_to,
        "sort": sort,
        "limit": limit,
        "cursor": cursor,
    }
    try:
        params = SearchParams.model_validate({k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        raise validation_problem(validation_errors(exc.errors(), "query")) from None
    page = await search_published(videos, params)  # BadCursor: 400
    return VideoPage(items=[to_summary(v) for v in page.videos], next_cursor=page.next_cursor)


@router.get(
    "/{video_ref}",
    summary="A published video by id or slug (JSON, or JSON-LD with Accept: application/ld+json)",
    response_model=VideoDetail,
    responses={**_JSONLD_RESPONSE, **problems("published_video_not_found", validation=False)},
)
async def get_video(
    video_ref: str, request: Request, videos: VideosDep, settings: SettingsDep
) -> JSONResponse:
    video = await published_video(videos, video_ref)
    headers = {"Vary": "Accept"}
    if JSONLD in request.headers.get("accept", ""):
        return JSONResponse(to_jsonld(video, settings.base_url), media_type=JSONLD, headers=headers)
    return JSONResponse(to_detail(video).model_dump(mode="json"), headers=headers)


@router.get(
    "/{video_ref}/jsonld",
    summary="A published video as schema.org VideoObject JSON-LD",
    response_class=JSONResponse,
    responses={**_JSONLD_RESPONSE, **problems("published_video_not_found", validation=False)},
)
async def get_video_jsonld(
    video_ref: str, videos: VideosDep, settings: SettingsDep
) -> JSONResponse:
    video = await published_video(videos, video_ref)
    return JSONResponse(to_jsonld(video, settings.base_url), media_type=JSONLD)
