from __future__ import annotations

import hashlib

from catalog.domain.demo import demo_media_bytes, demo_videos
from catalog.domain.jsonld import to_jsonld


def test_media_bytes_are_deterministic_and_distinct() -> None:
    first = demo_media_bytes("demo/a.mp4", 5000)
    assert first == demo_media_bytes("demo/a.mp4", 5000)
    assert len(first) == 5000 and first != demo_media_bytes("demo/b.mp4", 5000)
    assert demo_media_bytes("demo/a.mp4", 10) == first[:10]
    assert demo_media_bytes("demo/a.mp4", 0) == b""


def test_demo_catalogue_is_valid_and_its_metadata_true() -> None:
    videos = demo_videos()
    assert 4 <= len(videos) <= 6
    assert (
        len({video.id for video in videos}) == len({video.slug for video in videos}) == len(videos)
    )
    storage_keys = set()
    for video in videos:
        assert video.published and 2 <= len(video.renditions) <= 3
        for rendition in video.renditions:
            content = demo_media_bytes(rendition.storage_key, rendition.file_size)
            assert hashlib.sha256(content).hexdigest() == rendition.sha256
            assert rendition.file_size <= 100_000
            storage_keys.add(rendition.storage_key)
        to_jsonld(video, "https://portal.example")
    assert len(storage_keys) == sum(len(video.renditions) for video in videos)


def test_demo_contains_the_seed_panel_and_varied_formats() -> None:
    videos = demo_videos()
    titles = [video.title for video in videos]
    assert (
        "Panel with NATO Secretary General Mark Rutte, moderated by Christiane Amanpour" in titles
    )
    rates = {str(r.video_format.frame_rate) for v in videos for r in v.renditions if r.video_format}
    assert {"50/1", "25/1", "30000/1001"} <= rates
    assert any(r.video_format is None for v in videos for r in v.renditions)
    assert any(
        r.video_format and r.video_format.scanning_format == "interlaced"
        for v in videos
        for r in v.renditions
    )


def test_demo_is_the_same_every_time() -> None:
    assert demo_videos() == demo_videos()
