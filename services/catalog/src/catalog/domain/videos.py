"""Videos: what editors create and change, what the catalog stores, what the public sees.

Every change goes through full model validation (``model_validate`` of the merged values,
never ``model_copy(update=...)``), so a stored video always satisfies every rule, including
"a published video has at least one rendition".
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Self

import pycountry
from portal_shared.events.catalog import VideoPublished, VideoUnpublished
from pydantic import Field, field_validator, model_validator

from catalog.domain.model import InputModel, OutputModel, invalid
from catalog.domain.renditions import PublicRendition, Rendition, require_positive_duration
from catalog.domain.speakers import SpeakerCredit, combine_speakers

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
DEFAULT_USAGE_TERMS = (
    "Free of charge for editorial use. Any use must credit the source as given in the credit "
    "line. Not for advertising or commercial promotion."
)
DEFAULT_CREDIT_LINE = "NATO"
MAX_RENDITIONS = 12


class Location(InputModel):
    """Where a video was recorded (schema.org Place with a PostalAddress)."""

    name: Annotated[str | None, Field(max_length=200)] = None
    locality: Annotated[str, Field(min_length=1, max_length=120)]
    country_code: str

    @field_validator("country_code")
    @classmethod
    def _iso_3166(cls, value: str) -> str:
        code = value.upper()
        if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
            raise invalid("country_code", "not an ISO 3166-1 alpha-2 code: {value}", value=value)
        return code


class VideoFields(InputModel):
    """Fields an editor sets; shared by creation and by the stored video."""

    slug: Annotated[str, Field(min_length=3, max_length=120)]
    title: Annotated[str, Field(min_length=1, max_length=300)]
    description: Annotated[str, Field(max_length=10_000)] = ""
    recorded_on: date
    event: Annotated[str | None, Field(max_length=200)] = None
    location: Location | None = None
    duration: timedelta
    languages: list[str] = Field(default_factory=list, max_length=20)
    speakers: list[SpeakerCredit] = Field(default_factory=list, max_length=50)
    tags: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=30
    )
    thumbnail_url: Annotated[str | None, Field(max_length=500)] = None
    usage_terms: Annotated[str, Field(min_length=1, max_length=2_000)] = DEFAULT_USAGE_TERMS
    credit_line: Annotated[str, Field(min_length=1, max_length=200)] = DEFAULT_CREDIT_LINE
    published: bool = False
    renditions: list[Rendition] = Field(default_factory=list, max_length=MAX_RENDITIONS)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not re.match(SLUG_PATTERN, value):
            raise invalid(
                "slug_pattern",
                "slug must be lower-case letters and digits separated by single '-', got {value}",
                value=value,
            )
        return value

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: timedelta) -> timedelta:
        return require_positive_duration(value)

    @field_validator("languages")
    @classmethod
    def _iso_639_1(cls, values: list[str]) -> list[str]:
        codes = [value.strip().lower() for value in values]
        for code in codes:
            if len(code) != 2 or pycountry.languages.get(alpha_2=code) is None:
                raise invalid("language_code", "not an ISO 639-1 code: {value}", value=code)
        return list(dict.fromkeys(codes))

    @field_validator("tags")
    @classmethod
    def _distinct_tags(cls, values: list[str]) -> list[str]:
        distinct: dict[str, str] = {}
        for tag in values:
            distinct.setdefault(tag.casefold(), tag)
        return list(distinct.values())

    @field_validator("thumbnail_url")
    @classmethod
    def _thumbnail(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://", "/")):
            raise invalid("thumbnail_url", "thumbnail_url must be an http(s) URL or a /path")
        return value

    @model_validator(mode="after")
    def _renditions_distinct_and_present(self) -> Self:
        for attribute in ("id", "label"):
            seen = [getattr(rendition, attribute) for rendition in self.renditions]
            duplicates = sorted({value for value in seen if seen.count(value) > 1})
            if duplicates:
                raise invalid(
                    f"duplicate_rendition_{attribute}",
                    "rendition {attribute}s must be unique within a video: {duplicates}",
                    attribute=attribute,
                    duplicates=", ".join(duplicates),
                )
        if self.published and not self.renditions:
            raise invalid("publish_without_rendition", "a video needs a rendition to be published")
        return self


class VideoDraft(VideoFields):
    """What an editor sends to create a video."""


def _kept_when_absent() -> Any:
    """A patch field that may be left out (then kept) but is never null: no ``default`` in the
    JSON schema, so the OpenAPI document says what the code does (null is a 422)."""
    return Field(None, json_schema_extra=_without_default)


def _without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class VideoPatch(InputModel):
    """What an editor sends to change a video: only the fields present are changed.

    A video may lack only ``event``, ``location`` and ``thumbnail_url``: for these an explicit
    null clears the field. Every other field is one a video always has, so null is refused
    (422, the field's type error) rather than documented as allowed and then refused.
    """

    slug: str = _kept_when_absent()
    title: str = _kept_when_absent()
    description: str = _kept_when_absent()
    recorded_on: date = _kept_when_absent()
    event: str | None = None
    location: Location | None = None
    duration: timedelta = _kept_when_absent()
    languages: list[str] = _kept_when_absent()
    speakers: list[SpeakerCredit] = _kept_when_absent()
    tags: list[str] = _kept_when_absent()
    thumbnail_url: str | None = None
    usage_terms: str = _kept_when_absent()
    credit_line: str = _kept_when_absent()
    renditions: list[Rendition] = _kept_when_absent()


class Video(VideoFields):
    """A video as the catalog stores it."""

    id: Annotated[str, Field(min_length=1, max_length=64)]
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = None
    transcript_revision: int | None = None
    transcript_speakers: list[SpeakerCredit] = Field(default_factory=list)

    @property
    def all_speakers(self) -> list[SpeakerCredit]:
        return combine_speakers(self.speakers, self.transcript_speakers)

    def rendition(self, rendition_id: str) -> Rendition | None:
        return next((r for r in self.renditions if r.id == rendition_id), None)


def create_video(
    draft: VideoDraft, *, video_id: str, now: datetime
) -> tuple[Video, VideoPublished | None]:
    """A new stored video, and its VideoPublished event if the editor published it at once."""
    values = draft.model_dump(exclude={"published"})
    video = Video.model_validate({**values, "id": video_id, "created_at": now, "updated_at": now})
    if draft.published:
        return publish(video, now=now)
    return video, None


def apply_patch(video: Video, patch: VideoPatch, *, now: datetime) -> Video:
    """The video with the patch applied; raises ValidationError if the result breaks a rule."""
    changes = patch.model_dump(exclude_unset=True)
    return _revalidated(video, {**changes, "updated_at": now})


def publish(video: Video, *, now: datetime) -> tuple[Video, VideoPublished | None]:
    """Publish (idempotent: publishing a published video changes nothing and emits nothing)."""
    if video.published:
        return video, None
    published = _revalidated(video, {"published": True, "published_at": now, "updated_at": now})
    event = VideoPublished(
        video_id=video.id,
        slug=video.slug,
        title=video.title,
        recorded_on=video.recorded_on,
        languages=video.languages,
        published_at=now,
    )
    return published, event


def unpublish(video: Video, *, now: datetime) -> tuple[Video, VideoUnpublished | None]:
    if not video.published:
        return video, None
    hidden = _revalidated(video, {"published": False, "published_at": None, "updated_at": now})
    return hidden, VideoUnpublished(video_id=video.id, unpublished_at=now)


def _revalidated(video: Video, changes: dict[str, Any]) -> Video:
    return Video.model_validate({**video.model_dump(), **changes})


class VideoSummary(OutputModel):
    """A video in a list or search result."""

    id: str
    slug: str
    title: str
    recorded_on: date
    event: str | None
    location: Location | None
    duration: timedelta
    languages: list[str]
    speakers: list[SpeakerCredit]
    thumbnail_url: str | None


class VideoDetail(VideoSummary):
    """A video's page: everything public, renditions without their storage keys."""

    description: str
    tags: list[str]
    usage_terms: str
    credit_line: str
    published_at: datetime | None
    renditions: list[PublicRendition]


def to_summary(video: Video) -> VideoSummary:
    return VideoSummary.model_validate(_public_values(video))


def to_detail(video: Video) -> VideoDetail:
    return VideoDetail.model_validate(_public_values(video))


def _public_values(video: Video) -> dict[str, Any]:
    values = video.model_dump()
    values["speakers"] = [credit.model_dump() for credit in video.all_speakers]
    return values
