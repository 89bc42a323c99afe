from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from catalog.domain.jsonld import iso_duration, to_jsonld
from catalog.domain.videos import VideoDraft, create_video


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(3723, "PT1H2M3S"), (59, "PT59S"), (3600, "PT1H"), (1902, "PT31M42S"), (90.5, "PT1M30.5S")],
)
def test_iso_duration(seconds: float, expected: str) -> None:
    assert iso_duration(timedelta(seconds=seconds)) == expected


def test_video_object_shape(draft_data: dict[str, Any], now: datetime) -> None:
    audio = dict(draft_data["renditions"][0], id="audio", label="Audio only", mime_type="audio/mp4")
    audio.pop("video_format")
    draft_data["renditions"].append(audio)
    draft_data["published"] = True
    video, _ = create_video(VideoDraft.model_validate(draft_data), video_id="v-1", now=now)

    document = to_jsonld(video, "https://portal.example/")

    assert document["@context"] == "https://schema.org"
    assert document["@type"] == "VideoObject"
    assert document["url"] == "https://portal.example/videos/msc-panel"
    assert document["name"] == video.title
    assert document["duration"] == "PT31M42S"
    assert document["uploadDate"] == now.isoformat()
    assert document["dateCreated"] == "2026-02-14"
    assert document["thumbnailUrl"] == "https://portal.example/static/thumbnails/msc-panel.jpg"
    assert document["inLanguage"] == ["en", "fr"]
    assert document["isAccessibleForFree"] is True
    assert document["creditText"] == "NATO"
    assert "editorial use" in document["usageInfo"]["text"]
    assert "contentUrl" not in document
    assert document["encodingFormat"] == ["audio/mp4", "video/mp4"]
    assert document["contributor"][0] == {
        "@type": "Person",
        "name": "Mark Rutte",
        "jobTitle": "NATO Secretary General",
    }
    place = document["locationCreated"]
    assert place["address"]["addressLocality"] == "Munich"
    assert place["address"]["addressCountry"] == "DE"
    assert document["recordedAt"]["name"] == "Munich Security Conference 2026"

    video_media, audio_media = document["associatedMedia"]
    assert video_media["@type"] == "VideoObject" and audio_media["@type"] == "AudioObject"
    assert video_media["width"]["value"] == 1920 and video_media["height"]["value"] == 1080
    assert video_media["contentSize"] == "1234567 B"
    assert video_media["bitrate"] == "10250 kbps"
    assert video_media["encodingFormat"] == "video/mp4"
    assert "width" not in audio_media
    assert "storage_key" not in str(document) and video.renditions[0].storage_key not in str(
        document
    )


def test_absolute_thumbnail_is_kept_and_optional_parts_left_out(
    draft_data: dict[str, Any], now: datetime
) -> None:
    draft_data |= {"thumbnail_url": "https://cdn.example/t.jpg", "event": None, "location": None}
    video, _ = create_video(VideoDraft.model_validate(draft_data), video_id="v-1", now=now)
    document = to_jsonld(video, "https://portal.example")
    assert document["thumbnailUrl"] == "https://cdn.example/t.jpg"
    assert "recordedAt" not in document and "locationCreated" not in document
