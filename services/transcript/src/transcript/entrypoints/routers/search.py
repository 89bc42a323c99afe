"""Search for words across the latest transcripts of every video."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from portal_shared.http import Problem, problem_responses
from portal_shared.list_params import DEFAULT_LIMIT, Cursor, Limit

from transcript.domain.search import (
    SearchPosition,
    decode_search_cursor,
    encode_search_cursor,
    query_terms,
    snippet,
)
from transcript.entrypoints.deps import VIDEO_ID_PATTERN, SearchIndexDep, SettingsDep
from transcript.entrypoints.schemas import SearchHitOut, SearchOut

router = APIRouter(tags=["search"])


@router.get(
    "/v1/transcripts/search",
    summary="Segments that contain every word of the query (case and accents ignored)",
    response_model=SearchOut,
    responses=problem_responses(400, 422),
)
async def search_transcripts(
    index: SearchIndexDep,
    settings: SettingsDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="words to find")],
    video_id: Annotated[
        str | None, Query(pattern=VIDEO_ID_PATTERN, description="only this video")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> SearchOut:
    terms = query_terms(q)
    if not terms:
        raise Problem(422, "query_empty", "The query has no words to search for")
    after = decode_search_cursor(cursor) if cursor is not None else None
    hits, more = await index.search(
        terms, limit=min(limit, settings.search_limit_max), video_id=video_id, after=after
    )
    last = SearchPosition(hits[-1].video_id, hits[-1].segment_index) if more else None
    return SearchOut(
        query=q,
        terms=terms,
        items=[SearchHitOut.of(hit, snippet(hit.text, terms)) for hit in hits],
        next_cursor=encode_search_cursor(last) if last else None,
    )
