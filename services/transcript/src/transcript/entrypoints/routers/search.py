"""Search for words across the latest transcripts of every video."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from portal_shared.list_params import DEFAULT_LIMIT, Cursor, Limit

from transcript.domain.search import snippet
from transcript.entrypoints.deps import VIDEO_ID_PATTERN, ContextDep
from transcript.entrypoints.errors import problems
from transcript.entrypoints.schemas import SearchHitOut, SearchOut

router = APIRouter(tags=["search"])


@router.get(
    "/v1/transcripts/search",
    summary="Segments that contain every word of the query (case and accents ignored)",
    response_model=SearchOut,
    responses=problems("query_empty"),
)
async def search_transcripts(
    context: ContextDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="words to find")],
    video_id: Annotated[
        str | None, Query(pattern=VIDEO_ID_PATTERN, description="only this video")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> SearchOut:
    found = await context.reading.search(q, limit=limit, video_id=video_id, cursor=cursor)
    return SearchOut(
        query=q,
        terms=found.terms,
        items=[SearchHitOut.of(hit, snippet(hit.text, found.terms)) for hit in found.hits],
        next_cursor=found.next_cursor,
    )
