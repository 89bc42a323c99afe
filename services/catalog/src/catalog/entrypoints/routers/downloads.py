"""Download links: issue (verified users, quota), reissue, list one's own, and serve files.

The file route checks the signed link and streams the bytes with Range support. It needs
no session (a browser following the link sends no token); if a token is sent anyway it
must belong to the link's user (else 403 ``link_wrong_user``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from portal_shared.access import CurrentUser, UserIfTokenSent
from portal_shared.http import problem_response, problem_responses
from portal_shared.list_params import DEFAULT_LIMIT, Cursor, Limit
from portal_shared.pagination import BadCursor, Page, decode_cursor, encode_cursor
from pydantic import ConfigDict

from catalog.domain.downloads import DownloadRecord
from catalog.domain.model import OutputModel
from catalog.domain.ranges import (
    RangeKind,
    content_disposition,
    etag_from_sha256,
    etag_from_stat,
    evaluate_range,
    http_date,
    if_none_match_matches,
)
from catalog.entrypoints.deps import DownloadsDep, SettingsDep
from catalog.entrypoints.errors import problems
from catalog.service_layer.downloads import IssuedDownload, ServableFile

router = APIRouter(tags=["downloads"])


class DownloadLink(OutputModel):
    download_id: str
    url: str
    expires_at: datetime
    video_id: str
    rendition_id: str
    file_name: str

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "download_id": "0b7d8c1e-4c1f-4a59-9f55-3f4f0d0e6a11",
                    "url": "http://127.0.0.1:8003/v1/downloads/0b7d.../panel_1080p50.mp4?exp=..."
                    "&uid=...&vid=...&rid=1080p50&kid=k1&sig=...",
                    "expires_at": "2026-03-01T12:15:00Z",
                    "video_id": "5f0c...",
                    "rendition_id": "1080p50",
                    "file_name": "panel_1080p50.mp4",
                }
            ]
        }
    )


MY_DOWNLOADS = "my_downloads"


def _link(issued: IssuedDownload) -> DownloadLink:
    return DownloadLink(
        download_id=issued.download_id,
        url=issued.url,
        expires_at=issued.expires_at,
        video_id=issued.video_id,
        rendition_id=issued.rendition_id,
        file_name=issued.file_name,
    )


@router.post(
    "/v1/videos/{video_id}/renditions/{rendition_id}/download-links",
    status_code=201,
    summary="A signed, short-lived download link for one rendition (verified accounts)",
    response_model=DownloadLink,
    responses={
        **problem_responses(401),
        **problems(
            "not_verified",
            "account_deleted",
            "published_video_not_found",
            "rendition_not_found",
            "download_quota_exceeded",
        ),
    },
)
async def create_download_link(
    video_id: str, rendition_id: str, user: CurrentUser, downloads: DownloadsDep
) -> DownloadLink:
    issued = await downloads.authorize(
        user_id=user.user_id, video_ref=video_id, rendition_id=rendition_id
    )
    return _link(issued)


@router.post(
    "/v1/downloads/{download_id}/reissue",
    status_code=201,
    summary="A fresh link for a started download (not counted against the quota)",
    response_model=DownloadLink,
    responses={
        **problem_responses(401),
        **problems(
            "not_verified",
            "account_deleted",
            "download_not_found",
            "published_video_not_found",
            "rendition_not_found",
            "download_not_started",
            "reissue_limit_reached",
        ),
    },
)
async def reissue_download_link(
    download_id: str, user: CurrentUser, downloads: DownloadsDep
) -> DownloadLink:
    return _link(await downloads.reissue(user_id=user.user_id, download_id=download_id))


@router.get(
    "/v1/me/downloads",
    summary="My authorised downloads, newest first",
    response_model=Page[DownloadRecord],
    responses={**problem_responses(401), **problems()},
)
async def my_downloads(
    user: CurrentUser,
    downloads: DownloadsDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[DownloadRecord]:
    after = None
    if cursor:  # BadCursor: 400 bad_cursor
        at, last_id = decode_cursor(cursor, scope=MY_DOWNLOADS, shape=(str, str))
        try:
            after = (datetime.fromisoformat(str(at)), str(last_id))
        except ValueError:
            raise BadCursor("cursor position is invalid") from None
    rows = await downloads.records.list_for_user(user.user_id, limit + 1, after)
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor(
            MY_DOWNLOADS, [last.authorized_at.isoformat(), last.download_id]
        )
    return Page[DownloadRecord](items=items, next_cursor=next_cursor)


FILE_PATH = "/v1/downloads/{download_id}/{file_name}"
_FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}},
    206: {"description": "partial content"},
    304: {"description": "not modified (If-None-Match names the file's ETag)"},
    **problem_responses(401, 416),
    **problems(
        *(f"link_{verdict}" for verdict in ("malformed", "unknown_key", "tampered", "wrong_user")),
        "link_expired",
        "not_verified",
        "account_deleted",
        "published_video_not_found",
        "rendition_not_found",
        "rendition_changed",
        "media_missing",
        validation=False,
    ),
}


@router.get(
    FILE_PATH,
    summary="The file a signed link grants (Range, If-Range, If-None-Match and ETag supported)",
    response_class=Response,
    responses=_FILE_RESPONSES,
)
async def serve_download(
    download_id: str,
    file_name: str,
    request: Request,
    user: UserIfTokenSent,
    downloads: DownloadsDep,
    settings: SettingsDep,
) -> Response:
    servable = await downloads.open_link(
        download_id=download_id,
        file_name=file_name,
        query=dict(request.query_params),
        requester_id=user.user_id if user else None,
    )
    stored, rendition = servable.stored, servable.rendition
    etag = _etag(servable)
    if if_none_match_matches(request.headers.get("if-none-match"), etag):
        # Checked after the link: a 304 must not tell a stranger anything about the file.
        return Response(
            status_code=304, headers={"ETag": etag, "Cache-Control": "private, no-store"}
        )
    outcome = evaluate_range(
        request.headers.get("range"),
        request.headers.get("if-range"),
        size=stored.size,
        etag=etag,
        last_modified=stored.modified_at,
    )
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": http_date(stored.modified_at),
        "Content-Disposition": content_disposition(rendition.file_name),
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    if outcome.kind is RangeKind.UNSATISFIABLE:
        headers["Content-Range"] = outcome.content_range or f"bytes */{stored.size}"
        return problem_response(
            416, "range_not_satisfiable", "The range is outside the file", headers=headers
        )
    if outcome.content_range:
        headers["Content-Range"] = outcome.content_range
    headers["Content-Length"] = str(outcome.length)
    if request.method == "HEAD":
        return Response(status_code=outcome.status, headers=headers, media_type=rendition.mime_type)
    await downloads.started(download_id)
    body = downloads.storage.stream(
        stored, outcome.start, outcome.length, settings.stream_chunk_bytes
    )
    return StreamingResponse(
        body, status_code=outcome.status, headers=headers, media_type=rendition.mime_type
    )


router.add_api_route(
    FILE_PATH,
    serve_download,
    methods=["HEAD"],
    summary="The headers of the file a signed link grants",
    response_class=Response,
    responses=_FILE_RESPONSES,
    operation_id="head_download",
)


def _etag(servable: ServableFile) -> str:
    # The digest names the bytes only while the file is the one the metadata describes.
    if servable.stored.size == servable.rendition.file_size:
        return etag_from_sha256(servable.rendition.sha256)
    return etag_from_stat(servable.stored.size, servable.stored.mtime_ns)
