from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from catalog.domain.demo import demo_videos
from catalog.domain.documents import from_document, name_phrases, to_document
from catalog.domain.search import LANGUAGE_CODES, Page, SearchParams, build_query, page_of
from catalog.domain.text import fold, terms
from catalog.domain.videos import unpublish
from portal_shared.pagination import BadCursor
from pydantic import ValidationError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Rutte", ["rutte"]),
        ("rutte", ["rutte"]),
        ("RUTTE", ["rutte"]),
        ("Sécurité", ["securite"]),
        ("securite", ["securite"]),
        ("Jonas Gahr Støre", ["jonas", "gahr", "store"]),
        ("Europe's defence, Europe’s DEFENCE!", ["europes", "europe", "s", "defence"]),
        ("5% on defence — 3.5%", ["5", "on", "defence", "3"]),
        ("", []),
    ],
)
def test_terms_fold_case_accents_and_punctuation(text: str, expected: list[str]) -> None:
    assert terms(text) == expected


def test_fold() -> None:
    assert fold("SÉCURITÉ") == fold("sécurité") == "securite"


def test_name_phrases() -> None:
    assert sorted(name_phrases("Mark Rutte")) == ["mark", "mark rutte", "rutte"]


@pytest.fixture(scope="module")
def documents() -> list[dict[str, Any]]:
    return [to_document(video) for video in demo_videos()]


Rows = list[dict[str, Any]]


@pytest.fixture
def fetch(mongo_find: Callable[..., Rows]) -> Callable[[Rows, SearchParams], Page]:
    """Run a search over documents as the repository would: build, find, page."""

    def run(documents: Rows, params: SearchParams) -> Page:
        query = build_query(params)
        return page_of(mongo_find(documents, query.filter, query.sort, query.limit), params)

    return run


@pytest.fixture
def search(fetch: Callable[[Rows, SearchParams], Page]) -> Callable[..., list[str]]:
    def run(documents: Rows, **params: Any) -> list[str]:
        page = fetch(documents, SearchParams.model_validate(params))
        return [row["slug"] for row in page.items]

    return run


def test_document_round_trip(documents: list[dict[str, Any]]) -> None:
    assert [from_document(document) for document in documents] == demo_videos()


@pytest.mark.parametrize("speaker", ["Rutte", "rutte", "RUTTE", "Mark Rutte", "mark  RUTTE"])
def test_speaker_search_is_case_insensitive(
    search: Callable[..., list[str]], documents: list[dict[str, Any]], speaker: str
) -> None:
    found = search(documents, speaker=speaker)
    assert len(found) == 5 and "washington-summit-2024-press-conference" not in found


def test_speaker_phrase_must_belong_to_one_person(
    search: Callable[..., list[str]], documents: list[dict[str, Any]]
) -> None:
    assert search(documents, speaker="Mark Amanpour") == []
    assert search(documents, speaker="Støre") == search(documents, speaker="store")
    assert search(documents, speaker="store") == ["joint-press-point-prime-minister-norway"]


@pytest.mark.parametrize("q", ["Sécurité", "securite", "SECURITE"])
def test_words_are_accent_insensitive(
    search: Callable[..., list[str]], documents: list[dict[str, Any]], q: str
) -> None:
    assert "hague-summit-closing-press-conference-fr" in search(documents, q=q)


def test_all_words_must_match(
    search: Callable[..., list[str]], documents: list[dict[str, Any]]
) -> None:
    assert search(documents, q="Amanpour Ukraine") == ["msc-2026-panel-rutte-amanpour"]
    assert search(documents, q="Amanpour Norway") == []


def test_event_language_and_dates(
    search: Callable[..., list[str]], documents: list[dict[str, Any]]
) -> None:
    assert search(documents, event="munich security conference") == [
        "msc-2026-panel-rutte-amanpour"
    ]
    assert search(documents, language="fr") == ["hague-summit-closing-press-conference-fr"]
    in_2025 = search(documents, recorded_from="2025-01-01", recorded_to="2025-12-31")
    assert in_2025 == [
        "doorstep-foreign-ministers-dec-2025",
        "joint-press-point-prime-minister-norway",
        "hague-summit-closing-press-conference-fr",
    ]


def test_unpublished_videos_are_not_listed(
    search: Callable[..., list[str]], documents: list[dict[str, Any]]
) -> None:
    hidden, _ = unpublish(demo_videos()[0], now=demo_videos()[0].created_at)
    rows = [to_document(hidden), *documents[1:]]
    assert "msc-2026-panel-rutte-amanpour" not in search(rows)
    assert len(search(rows)) == 5


@pytest.mark.parametrize("sort", ["newest", "oldest", "title"])
def test_paging_visits_every_video_once_in_order(
    search: Callable[..., list[str]],
    fetch: Callable[[Rows, SearchParams], Page],
    documents: list[dict[str, Any]],
    sort: str,
) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = SearchParams(sort=sort, limit=2, cursor=cursor)
        assert build_query(params).limit == 3
        page = fetch(documents, params)
        seen += [row["slug"] for row in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    everything = search(documents, sort=sort, limit=100)
    assert seen == everything and len(seen) == 6
    if sort == "newest":
        assert seen[0] == "msc-2026-panel-rutte-amanpour"
    if sort == "oldest":
        assert seen[0] == "washington-summit-2024-press-conference"
    if sort == "title":
        assert seen[0] == "doorstep-foreign-ministers-dec-2025"


def test_cursor_from_another_sort_order_is_refused(
    fetch: Callable[[Rows, SearchParams], Page], documents: list[dict[str, Any]]
) -> None:
    cursor = fetch(documents, SearchParams(sort="newest", limit=1)).next_cursor
    assert cursor is not None
    with pytest.raises(BadCursor):
        build_query(SearchParams(sort="title", cursor=cursor))
    with pytest.raises(BadCursor):
        build_query(SearchParams(cursor=cursor[:-3] + "xyz"))


def test_query_shape() -> None:
    query = build_query(SearchParams(q="Rutte Ukraine", speaker="Mark Rutte", language="en"))
    assert query.filter == {
        "$and": [
            {"published": True},
            {"searchTerms": {"$all": ["rutte", "ukraine"]}},
            {"speakerKeys": "mark rutte"},
            {"languages": "en"},
        ]
    }
    assert query.sort == [("recordedOn", -1), ("_id", -1)]
    assert build_query(SearchParams(q="!!!")).filter == {"published": True}


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"recorded_from": "2026-01-02", "recorded_to": "2026-01-01"}, "invalid_date_range"),
        ({"language": "english"}, "language_code"),
        ({"q": " ".join(f"w{i}" for i in range(17))}, "too_many_terms"),
        ({"limit": 0}, "greater_than_equal"),
        ({"limit": 101}, "less_than_equal"),
        ({"sort": "random"}, "literal_error"),
    ],
)
def test_bad_search_params(params: dict[str, Any], error: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SearchParams.model_validate(params)
    assert error in {e["type"] for e in caught.value.errors()}


@pytest.mark.parametrize("code", ["EN", "xx", "eng", ""])
def test_language_is_one_of_the_documented_lower_case_codes(code: str) -> None:
    assert "en" in LANGUAGE_CODES and "fr" in LANGUAGE_CODES and len(LANGUAGE_CODES) > 150
    with pytest.raises(ValidationError) as refused:
        SearchParams(language=code)
    assert refused.value.errors()[0]["type"] == "language_code"
