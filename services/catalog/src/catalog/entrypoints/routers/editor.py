"""Editors' API (role ``editor``): create, change, publish and unpublish videos, see drafts."""

from __future__ import annotations

from fastapi import APIRouter
from portal_shared.access import CurrentEditor
from portal_shared.http import problem_responses
from portal_shared.list_params import DEFAULT_LIMIT, Cursor, Limit
from portal_shared.pagination import Page, decode_cursor, encode_cursor

from catalog.domain.videos import Video, VideoDraft, VideoPatch
from catalog.entrypoints.deps import EditingDep, VideosDep
from catalog.entrypoints.errors import problems

router = APIRouter(prefix="/v1/editor/videos", tags=["editor"])
_EDITOR = problem_responses(401, 403)
_CREATE = {**_EDITOR, **problems("slug_taken")}
_READ = {**_EDITOR, **problems("video_not_found")}
_CHANGE = {**_EDITOR, **problems("video_not_found", "slug_taken", "concurrent_change")}
SCOPE = "editor_videos"
_PUBLISH = {**_EDITOR, **problems("video_not_found", "concurrent_change")}


@router.get(
    "",
    summary="All videos, drafts included, the last changed first",
    response_model=Page[Video],
    responses={**_EDITOR, **problems()},
)
async def list_all(
    _: CurrentEditor,
    videos: VideosDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Video]:
    after = None
    if cursor:  # BadCursor: 400 bad_cursor
        changed, last_id = decode_cursor(cursor, scope=SCOPE, shape=(str, str))
        after = (str(changed), str(last_id))
    rows = await videos.list_all(limit + 1, after)
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]  # its updatedAt as stored: the JSON form of the datetime
        next_cursor = encode_cursor(SCOPE, [last.model_dump(mode="json")["updated_at"], last.id])
    return Page[Video](items=items, next_cursor=next_cursor)


@router.post("", status_code=201, summary="Create a video", response_model=Video, responses=_CREATE)
async def create(draft: VideoDraft, editor: CurrentEditor, editing: EditingDep) -> Video:
    return await editing.create(draft, editor_id=editor.user_id)


@router.get(
    "/{video_id}", summary="A video, draft or published", response_model=Video, responses=_READ
)
async def get(video_id: str, _: CurrentEditor, editing: EditingDep) -> Video:
    return await editing.get(video_id)


@router.patch(
    "/{video_id}", summary="Change some fields of a video", response_model=Video, responses=_CHANGE
)
async def update(
    video_id: str, patch: VideoPatch, editor: CurrentEditor, editing: EditingDep
) -> Video:
    return await editing.update(video_id, patch, editor_id=editor.user_id)


@router.post(
    "/{video_id}/publish",
    summary="Publish (emits VideoPublished)",
    response_model=Video,
    responses=_PUBLISH,
)
async def publish(video_id: str, editor: CurrentEditor, editing: EditingDep) -> Video:
    return await editing.publish(video_id, editor_id=editor.user_id)


@router.post(
    "/{video_id}/unpublish",
    summary="Unpublish (emits VideoUnpublished)",
    response_model=Video,
    responses=_PUBLISH,
)
async def unpublish(video_id: str, editor: CurrentEditor, editing: EditingDep) -> Video:
    return await editing.unpublish(video_id, editor_id=editor.user_id)
