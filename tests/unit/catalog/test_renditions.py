from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from catalog.domain.renditions import FrameRate, PublicRendition, Rendition, parse_frame_rate
from pydantic import ValidationError


def error_types(exc: ValidationError) -> set[str]:
    return {error["type"] for error in exc.errors()}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25", Fraction(25)),
        ("25/1", Fraction(25)),
        ("30000/1001", Fraction(30000, 1001)),
        (" 60000 / 1001 ", Fraction(60000, 1001)),
        ("50/2", Fraction(25)),
        (24, Fraction(24)),
    ],
)
def test_frame_rates_are_exact_fractions(text: str | int, expected: Fraction) -> None:
    assert parse_frame_rate(text) == expected
    assert FrameRate.model_validate(text).fraction == expected


@pytest.mark.parametrize("text", ["29.97", "abc", "25/0", "0/1", "-25", "1/2/3", ""])
def test_bad_frame_rates_are_refused(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        FrameRate.model_validate(text)
    assert error_types(caught.value) & {"frame_rate_format", "frame_rate_positive"}


def test_frame_rate_keeps_ntsc_rate_and_reduces_others() -> None:
    ntsc = FrameRate.model_validate({"factor_numerator": 30000, "factor_denominator": 1001})
    assert (ntsc.factor_numerator, ntsc.factor_denominator) == (30000, 1001)
    assert ntsc.fps == pytest.approx(29.97, abs=0.001)
    assert (
        str(FrameRate.model_validate({"factor_numerator": 100, "factor_denominator": 4})) == "25/1"
    )


def test_frame_rate_serialises_with_ebucore_names(rendition_data: dict[str, Any]) -> None:
    rendition_data["video_format"]["frame_rate"] = "30000/1001"
    dumped = Rendition.model_validate(rendition_data).model_dump(mode="json")
    assert dumped["video_format"]["frame_rate"] == {
        "factor_numerator": 30000,
        "factor_denominator": 1001,
    }
    assert dumped["duration"] == "PT31M42S"
    assert dumped["file_size"] == 1_234_567


@pytest.mark.parametrize(
    ("path", "value", "error"),
    [
        (("sha256",), "xyz", "sha256_format"),
        (("sha256",), "ab" * 31, "sha256_format"),
        (("id",), "Full HD", "rendition_id_pattern"),
        (("file_size",), 0, "greater_than"),
        (("video_format", "width"), -1920, "greater_than"),
        (("duration",), 0, "duration_positive"),
        (("duration",), "P7DT1S", "duration_too_long"),
        (("file_name",), "../etc/passwd", "file_name_invalid"),
        (("storage_key",), "../../etc/passwd", "storage_key_invalid"),
        (("storage_key",), "/etc/passwd", "storage_key_invalid"),
        (("storage_key",), "demo//a.mp4", "storage_key_invalid"),
        (("storage_key",), "demo/./a.mp4", "storage_key_invalid"),
        (("storage_key",), "demo/a.mp4?x=1", "storage_key_invalid"),
        (("storage_key",), "demo\\a.mp4", "storage_key_invalid"),
        (("video_format", "scanning_format"), "interlaced", "scanning_order_required"),
        (("audio_format", "sampling_rate"), "fast", "int_parsing"),
    ],
)
def test_rendition_validation_errors_have_stable_ids(
    rendition_data: dict[str, Any], path: tuple[str, ...], value: object, error: str
) -> None:
    target = rendition_data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError) as caught:
        Rendition.model_validate(rendition_data)
    assert error in error_types(caught.value)


def test_interlaced_needs_field_order_and_progressive_has_none(
    rendition_data: dict[str, Any],
) -> None:
    rendition_data["video_format"] |= {"scanning_format": "interlaced", "scanning_order": "top"}
    video_format = Rendition.model_validate(rendition_data).video_format
    assert video_format is not None and video_format.scanning_order == "top"
    rendition_data["video_format"]["scanning_format"] = "progressive"
    with pytest.raises(ValidationError) as caught:
        Rendition.model_validate(rendition_data)
    assert "scanning_order_progressive" in error_types(caught.value)


def test_sha256_is_normalised_to_lower_case(rendition_data: dict[str, Any]) -> None:
    rendition_data["sha256"] = "AB" * 32
    assert Rendition.model_validate(rendition_data).sha256 == "ab" * 32


def test_audio_only_rendition_and_one_without_any_stream(rendition_data: dict[str, Any]) -> None:
    del rendition_data["video_format"]
    assert Rendition.model_validate(rendition_data).video_format is None
    del rendition_data["audio_format"]
    with pytest.raises(ValidationError) as caught:
        Rendition.model_validate(rendition_data)
    assert "rendition_without_stream" in error_types(caught.value)


def test_unknown_fields_are_refused(rendition_data: dict[str, Any]) -> None:
    rendition_data["frame_rate"] = "25"  # belongs in videoFormat
    with pytest.raises(ValidationError) as caught:
        Rendition.model_validate(rendition_data)
    assert "extra_forbidden" in error_types(caught.value)


def test_public_rendition_hides_the_storage_key(rendition_data: dict[str, Any]) -> None:
    stored = Rendition.model_validate(rendition_data).model_dump(mode="json")
    public = PublicRendition.model_validate(stored).model_dump(mode="json")
    assert "storage_key" not in public
    assert public["sha256"] == stored["sha256"]
