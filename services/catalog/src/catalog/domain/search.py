"""Listing and searching published videos, as a MongoDB query both MongoDB and FerretDB run.

No text index is needed: each stored video carries folded word arrays (see
``catalog.domain.documents.search_fields``) and a query asks for all its words with
``$all``. Words match whole ("rutte" finds Rutte, "rut" does not), case- and
accent-insensitively ("Sécurité" = "securite").

Speakers are matched as a phrase of whole words within one speaker's name: each name is
stored with every run of consecutive words ("mark", "rutte", "mark rutte"), so "Rutte" and
"Mark Rutte" find Mark Rutte but "Mark Amanpour" finds nobody. This is a plain equality on
an array element, indexable as a multikey index.

Pagination is keyset over (sort key, ``_id``) with the portal's one cursor
(``portal_shared.pagination``, scope ``videos:<sort>``): fetch ``limit + 1`` rows, show
``limit``, and the extra row tells whether a next page exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal, Self

import pycountry
from portal_shared.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor
from pydantic import Field, field_validator, model_validator

from catalog.domain.model import InputModel, invalid
from catalog.domain.text import terms

SortOrder = Literal["newest", "oldest", "title"]
LANGUAGE_CODES: tuple[str, ...] = tuple(
    sorted(
        str(language.alpha_2) for language in pycountry.languages if hasattr(language, "alpha_2")
    )
)
"""The ISO 639-1 codes, lower case: the ``language`` filter's values."""
MAX_QUERY_TERMS = 16
DEFAULT_PAGE_SIZE = DEFAULT_LIMIT
MAX_PAGE_SIZE = MAX_LIMIT

SEARCH_TERMS = "searchTerms"
SPEAKER_KEYS = "speakerKeys"
EVENT_TERMS = "eventTerms"
TITLE_KEY = "titleKey"
RECORDED_ON = "recordedOn"

_SORT_FIELD: dict[str, tuple[str, int]] = {
    "newest": (RECORDED_ON, -1),
    "oldest": (RECORDED_ON, 1),
    "title": (TITLE_KEY, 1),
}


class SearchParams(InputModel):
    q: Annotated[str | None, Field(max_length=200)] = None
    event: Annotated[str | None, Field(max_length=200)] = None
    speaker: Annotated[str | None, Field(max_length=120)] = None
    language: str | None = None
    recorded_from: date | None = None
    recorded_to: date | None = None
    sort: SortOrder = "newest"
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE
    cursor: Annotated[str | None, Field(max_length=1_000)] = None

    @field_validator("q", "event", "speaker")
    @classmethod
    def _few_words(cls, value: str | None) -> str | None:
        if value is not None and len(terms(value)) > MAX_QUERY_TERMS:
            raise invalid("too_many_terms", "at most {limit} words", limit=MAX_QUERY_TERMS)
        return value

    @field_validator("language")
    @classmethod
    def _iso_639_1(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value not in LANGUAGE_CODES:
            raise invalid("language_code", "not a lower-case ISO 639-1 code: {value}", value=value)
        return value

    @model_validator(mode="after")
    def _ordered_dates(self) -> Self:
        if self.recorded_from and self.recorded_to and self.recorded_from > self.recorded_to:
            raise invalid("invalid_date_range", "recorded_from is after recorded_to")
        return self


@dataclass(frozen=True)
class Query:
    """Arguments of ``find(filter).sort(sort).limit(limit)``."""

    filter: dict[str, Any]
    sort: list[tuple[str, int]]
    limit: int


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def build_query(params: SearchParams) -> Query:
    """The MongoDB query for a search; raises BadCursor for a cursor that is not ours."""
    conditions: list[dict[str, Any]] = [{"published": True}]
    if params.q and (words := terms(params.q)):
        conditions.append({SEARCH_TERMS: {"$all": words}})
    if params.event and (words := terms(params.event)):
        conditions.append({EVENT_TERMS: {"$all": words}})
    if params.speaker and (words := terms(params.speaker)):
        conditions.append({SPEAKER_KEYS: " ".join(words)})
    if params.language:
        conditions.append({"languages": params.language})
    dates = _date_range(params)
    if dates:
        conditions.append({RECORDED_ON: dates})
    field, direction = _SORT_FIELD[params.sort]
    if params.cursor:
        key, last_id = decode_cursor(params.cursor, scope=_scope(params.sort), shape=(str, str))
        conditions.append(_after(field, direction, str(key), str(last_id)))
    query_filter = conditions[0] if len(conditions) == 1 else {"$and": conditions}
    return Query(query_filter, [(field, direction), ("_id", direction)], params.limit + 1)


def page_of(rows: list[dict[str, Any]], params: SearchParams) -> Page:
    """The page to show from the ``limit + 1`` rows the query returned."""
    items = rows[: params.limit]
    if len(rows) <= params.limit or not items:
        return Page(items, None)
    field, _ = _SORT_FIELD[params.sort]
    last = items[-1]
    return Page(items, encode_cursor(_scope(params.sort), [last[field], str(last["_id"])]))


def _scope(sort: str) -> str:
    return f"videos:{sort}"


def _date_range(params: SearchParams) -> dict[str, str]:
    # Dates are stored as ISO strings ("2026-02-14"), which sort like the dates they name.
    bounds: dict[str, str] = {}
    if params.recorded_from:
        bounds["$gte"] = params.recorded_from.isoformat()
    if params.recorded_to:
        bounds["$lte"] = params.recorded_to.isoformat()
    return bounds


def _after(field: str, direction: int, key: str, last_id: str) -> dict[str, Any]:
    beyond = "$lt" if direction < 0 else "$gt"
    return {"$or": [{field: {beyond: key}}, {field: key, "_id": {beyond: last_id}}]}
