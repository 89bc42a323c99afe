"""Finding 6: bad cursors and numbers are 400/422, never 500 (hypothesis, real database).

Before: transcript search with a cursor holding an integer >= 2^63 answered 500
(``OverflowError`` in the BSON encoder) and the next request on that connection failed. Every
cursor and numeric query parameter of the catalog and transcript APIs is fuzzed here with
well-formed-looking cursors (base64 JSON with hostile values) and arbitrary text; identity's
JSON bodies holding NUL are covered by tests/integration/identity/test_bad_input.py.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
HOSTILE_NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**63, 2**63 - 1, -(2**63) - 1, 2**64, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
)
HOSTILE_VALUES = st.one_of(
    HOSTILE_NUMBERS,
    st.text(max_size=30),
    st.just("a\x00b"),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _cursor(payload: Any) -> str:
    raw = json.dumps(payload, allow_nan=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


CURSORS = st.one_of(
    st.text(max_size=60),
    st.builds(lambda v, i: _cursor({"v": v, "i": i}), HOSTILE_VALUES, HOSTILE_VALUES),
    st.builds(lambda v, i: _cursor({"v": v, "i": i}), st.text(max_size=20), HOSTILE_NUMBERS),
    st.builds(
        lambda s, k, i: _cursor({"v": 1, "s": s, "k": k, "i": i}),
        st.sampled_from(["newest", "oldest", "title", "x"]),
        HOSTILE_VALUES,
        HOSTILE_VALUES,
    ),
    st.builds(
        lambda s, p: _cursor({"v": 1, "s": s, "p": p}),
        st.sampled_from(["transcript_search", "videos:newest", "videos:title", "x"]),
        st.lists(HOSTILE_VALUES, max_size=3),
    ),
    st.builds(_cursor, HOSTILE_VALUES),
)
NUMBERS_AS_TEXT = st.one_of(HOSTILE_NUMBERS.map(str), st.text(max_size=12))


def _not_a_crash(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")


@FUZZ
@given(cursor=CURSORS, limit=NUMBERS_AS_TEXT)
@example(cursor=_cursor({"v": "x", "i": 2**63}), limit="20")  # the reported 500
@example(cursor=_cursor({"v": "a\x00b", "i": 1}), limit="20")
@example(cursor=_cursor({"v": 1, "s": "transcript_search", "p": ["x", 2**63]}), limit="20")
@example(cursor=_cursor({"v": 1, "s": "transcript_search", "p": ["a\x00b", 1]}), limit="20")
async def test_transcript_search_cursor_and_limit(service: Any, cursor: str, limit: str) -> None:
    response = await service.client.get(
        "/v1/transcripts/search", params={"q": "security", "cursor": cursor, "limit": limit}
    )
    _not_a_crash(response)
    after = await service.client.get("/v1/transcripts/search", params={"q": "security"})
    assert after.status_code == 200  # the connection still works


@FUZZ
@given(cursor=CURSORS, limit=NUMBERS_AS_TEXT, sort=st.sampled_from(["newest", "oldest", "title"]))
@example(cursor=_cursor({"v": 1, "s": "newest", "k": "a\x00", "i": "b"}), limit="1", sort="newest")
async def test_catalog_video_list_cursor_and_limit(
    catalog: Any, cursor: str, limit: str, sort: str
) -> None:
    params = {"cursor": cursor, "limit": limit, "sort": sort}
    _not_a_crash(await catalog.client.get("/v1/videos", params=params))
    assert (await catalog.client.get("/v1/videos")).status_code == 200


@FUZZ
@given(limit=NUMBERS_AS_TEXT, offset=NUMBERS_AS_TEXT)
async def test_catalog_numeric_parameters(catalog: Any, limit: str, offset: str) -> None:
    headers = catalog.auth("fuzzing-editor", ("user", "editor"))
    for path in ("/v1/editor/videos", "/v1/me/downloads"):
        response = await catalog.client.get(
            path, params={"limit": limit, "offset": offset}, headers=headers
        )
        _not_a_crash(response)
        assert response.status_code != 401
