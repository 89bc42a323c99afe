"""A video as schema.org VideoObject JSON-LD, for search engines and other catalogues.

Decisions:
- No ``contentUrl``: downloads need an account, so each rendition is an ``associatedMedia``
  (VideoObject, or AudioObject for audio-only) carrying its size, format, frame size,
  bit rate and SHA-256 instead of a URL.
- Speakers are ``contributor`` Persons (with ``jobTitle`` and ``affiliation``): ``actor``
  means a performer in a production and ``mentions`` a topic, neither of which fits a
  speaker at a press conference.
- The occasion is ``recordedAt`` (an Event with its date and place); the place is also
  ``locationCreated``.
- ``isAccessibleForFree`` is true: the portal's videos are free of charge for editorial use;
  ``creditText`` and ``copyrightNotice`` carry the credit line, ``usageInfo`` the terms.

The caller embedding this in HTML must escape ``</`` (e.g. ``json.dumps(...).replace("</",
"<\\/")``): titles are editor text.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote, urljoin

from pydantic import TypeAdapter

from catalog.domain.renditions import Rendition
from catalog.domain.speakers import SpeakerCredit
from catalog.domain.videos import Location, Video

_DURATION = TypeAdapter(timedelta)


def iso_duration(value: timedelta) -> str:
    """ISO 8601 duration as schema.org wants it: 3723 s -> "PT1H2M3S"."""
    return str(_DURATION.dump_python(value, mode="json"))


def video_page_url(video: Video, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/videos/{quote(video.slug)}"


def to_jsonld(video: Video, base_url: str) -> dict[str, Any]:
    page = video_page_url(video, base_url)
    document: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "VideoObject",
        "@id": page,
        "url": page,
        "identifier": video.id,
        "name": video.title,
        "description": video.description or video.title,
        "uploadDate": (video.published_at or video.created_at).isoformat(),
        "dateCreated": video.recorded_on.isoformat(),
        "duration": iso_duration(video.duration),
        "inLanguage": video.languages,
        "keywords": video.tags,
        "isAccessibleForFree": True,
        "creditText": video.credit_line,
        "copyrightNotice": video.credit_line,
        "usageInfo": {"@type": "CreativeWork", "text": video.usage_terms},
        "encodingFormat": sorted({rendition.mime_type for rendition in video.renditions}),
        "contributor": [_person(credit) for credit in video.all_speakers],
        "associatedMedia": [_media_object(rendition) for rendition in video.renditions],
    }
    if video.thumbnail_url:
        document["thumbnailUrl"] = urljoin(base_url.rstrip("/") + "/", video.thumbnail_url)
    if video.location:
        document["locationCreated"] = _place(video.location)
    if video.event:
        document["recordedAt"] = _event(video)
    return document


def _person(credit: SpeakerCredit) -> dict[str, Any]:
    person: dict[str, Any] = {"@type": "Person", "name": credit.name}
    if credit.role:
        person["jobTitle"] = credit.role
    if credit.affiliation:
        person["affiliation"] = {"@type": "Organization", "name": credit.affiliation}
    return person


def _place(location: Location) -> dict[str, Any]:
    place: dict[str, Any] = {
        "@type": "Place",
        "address": {
            "@type": "PostalAddress",
            "addressLocality": location.locality,
            "addressCountry": location.country_code,
        },
    }
    if location.name:
        place["name"] = location.name
    return place


def _event(video: Video) -> dict[str, Any]:
    event: dict[str, Any] = {
        "@type": "Event",
        "name": video.event,
        "startDate": video.recorded_on.isoformat(),
    }
    if video.location:
        event["location"] = _place(video.location)
    return event


def _media_object(rendition: Rendition) -> dict[str, Any]:
    media: dict[str, Any] = {
        "@type": "VideoObject" if rendition.video_format else "AudioObject",
        "name": rendition.label,
        "encodingFormat": rendition.mime_type,
        "contentSize": f"{rendition.file_size} B",
        "bitrate": f"{round(rendition.overall_bit_rate / 1000)} kbps",
        "duration": iso_duration(rendition.duration),
        "sha256": rendition.sha256,
    }
    if video_format := rendition.video_format:
        media["width"] = _pixels(video_format.width)
        media["height"] = _pixels(video_format.height)
        media["videoFrameSize"] = f"{video_format.width}x{video_format.height}"
    return media


def _pixels(value: int) -> dict[str, Any]:
    # UN/CEFACT unit code E37 is "pixel"; schema.org wants a QuantitativeValue here.
    return {"@type": "QuantitativeValue", "value": value, "unitCode": "E37"}
