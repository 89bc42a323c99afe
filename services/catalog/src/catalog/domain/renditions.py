"""Renditions: the downloadable files of a video, described with EBUCore technical metadata.

Field names are EBUCore 1.10 ``ebucore:format`` terms, written in snake_case like all of the
portal's JSON: ``container_format``; ``video_format`` with ``codec``, ``width``, ``height``,
``frame_rate`` (a rational with ``factor_numerator``/``factor_denominator``, as EBUCore's
rationalType), ``scanning_format`` (``progressive``/``interlaced``), ``scanning_order``
(``top``/``bottom``, field order of interlaced video) and ``bit_rate``; ``audio_format`` with
``codec``, ``channels``, ``sampling_rate`` and ``bit_rate``; ``duration`` (EBUCore
``normalPlayTime``, an ISO 8601 duration on the wire, seconds are accepted on input);
``file_size`` in bytes; ``file_name``; ``mime_type``; ``overall_bit_rate`` (EBUCore
``fileInfo``). The SHA-256 digest (EBUCore ``hash`` with ``hashFunction`` SHA-256) is the flat
field ``sha256``, because the serving layer uses it as the strong ETag. ``storage_key`` is
internal and never served.
"""

from __future__ import annotations

import re
from datetime import timedelta
from fractions import Fraction
from typing import Annotated, Any, Literal, Self, TypeGuard

from pydantic import Field, PositiveInt, field_validator, model_validator

from catalog.domain.model import InputModel, OutputModel, invalid

RENDITION_ID_PATTERN = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_RATIONAL = re.compile(r"^\s*(\d+)\s*(?:/\s*(\d+)\s*)?$")
# A file name is put in a URL path segment and a Content-Disposition header.
_FILE_NAME = re.compile(r"^[^/\\\x00-\x1f\x7f]{1,200}$")
_STORAGE_KEY = re.compile(r"^[^\\\x00-\x1f\x7f?#]{1,300}$")

ScanningFormat = Literal["progressive", "interlaced"]
ScanningOrder = Literal["top", "bottom"]


def parse_frame_rate(value: str | int) -> Fraction:
    """Read "25", "25/1" or "30000/1001" as an exact fraction; decimals are refused.

    "29.97" is refused rather than guessed, since it could mean 30000/1001 or 2997/100.
    """
    match = _RATIONAL.match(str(value))
    if match is None:
        raise invalid(
            "frame_rate_format",
            "frame rate must be an integer or a fraction like 30000/1001, got {value}",
            value=str(value),
        )
    numerator = int(match.group(1))
    denominator = int(match.group(2) or 1)
    if numerator == 0 or denominator == 0:
        raise invalid("frame_rate_positive", "frame rate numerator and denominator must be > 0")
    return Fraction(numerator, denominator)


class FrameRate(InputModel):
    """An exact frame rate, e.g. 25/1 or 30000/1001 (NTSC 29.97), kept in lowest terms."""

    factor_numerator: PositiveInt
    factor_denominator: PositiveInt = 1

    @model_validator(mode="before")
    @classmethod
    def _exact_lowest_terms(cls, value: Any) -> Any:
        if isinstance(value, str | int) and not isinstance(value, bool):
            fraction = parse_frame_rate(value)
        elif isinstance(value, dict):
            numerator = value.get("factor_numerator")
            denominator = value.get("factor_denominator", 1)
            if not (_is_positive_int(numerator) and _is_positive_int(denominator)):
                return value  # let field validation report what is wrong
            fraction = Fraction(numerator, denominator)
        else:
            return value
        return {"factor_numerator": fraction.numerator, "factor_denominator": fraction.denominator}

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.factor_numerator, self.factor_denominator)

    @property
    def fps(self) -> float:
        return self.factor_numerator / self.factor_denominator

    def __str__(self) -> str:
        return f"{self.factor_numerator}/{self.factor_denominator}"


def _is_positive_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class Codec(InputModel):
    """A codec with its profile and level, e.g. H.264 High 4.2 or AAC LC."""

    name: Annotated[str, Field(min_length=1, max_length=40)]
    profile: Annotated[str | None, Field(max_length=40)] = None
    level: Annotated[str | None, Field(max_length=10)] = None


class VideoFormat(InputModel):
    codec: Codec
    width: PositiveInt
    height: PositiveInt
    frame_rate: FrameRate
    scanning_format: ScanningFormat
    scanning_order: ScanningOrder | None = None
    bit_rate: PositiveInt | None = None

    @model_validator(mode="after")
    def _field_order_only_when_interlaced(self) -> Self:
        if self.scanning_format == "interlaced" and self.scanning_order is None:
            raise invalid("scanning_order_required", "interlaced video needs scanning_order")
        if self.scanning_format == "progressive" and self.scanning_order is not None:
            raise invalid("scanning_order_progressive", "progressive video has no scanning_order")
        return self


class AudioFormat(InputModel):
    codec: Codec
    channels: PositiveInt
    sampling_rate: PositiveInt
    bit_rate: PositiveInt | None = None


MAX_DURATION = timedelta(days=7)
"""Longer than any recording; also keeps the ISO 8601 form free of years, which pydantic
writes without months ("P1Y3D"), a form RFC 3339 durations do not allow."""


def require_positive_duration(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise invalid("duration_positive", "duration must be greater than zero")
    if value > MAX_DURATION:
        raise invalid("duration_too_long", "duration must be at most 7 days")
    return value


class Rendition(InputModel):
    """One file of a video as the catalog stores it (``storage_key`` included)."""

    id: Annotated[str, Field(min_length=1, max_length=40)]
    label: Annotated[str, Field(min_length=1, max_length=80)]
    container_format: Annotated[str, Field(min_length=1, max_length=40)]
    mime_type: Annotated[str, Field(pattern=r"^[a-z]+/[a-z0-9.+-]+$")]
    file_name: str
    file_size: PositiveInt
    sha256: str
    duration: timedelta
    overall_bit_rate: PositiveInt
    video_format: VideoFormat | None = None
    audio_format: AudioFormat | None = None
    storage_key: Annotated[str, Field(min_length=1, max_length=300)]

    @field_validator("id")
    @classmethod
    def _id_pattern(cls, value: str) -> str:
        if not re.match(RENDITION_ID_PATTERN, value):
            raise invalid(
                "rendition_id_pattern",
                "rendition id must be lower-case letters, digits, '-' or '_', got {value}",
                value=value,
            )
        return value

    @field_validator("sha256", mode="before")
    @classmethod
    def _sha256_hex(cls, value: Any) -> Any:
        if not isinstance(value, str) or not _SHA256.match(value.strip().lower()):
            raise invalid("sha256_format", "sha256 must be 64 hexadecimal characters")
        return value.strip().lower()

    @field_validator("file_name")
    @classmethod
    def _file_name(cls, value: str) -> str:
        if not _FILE_NAME.match(value) or value in {".", ".."}:
            raise invalid("file_name_invalid", "file_name must be a plain file name, no path")
        return value

    @field_validator("storage_key")
    @classmethod
    def _relative_storage_key(cls, value: str) -> str:
        # A key names a file below the media root (or an object): never a way out of it.
        segments = value.split("/")
        if not _STORAGE_KEY.match(value) or any(segment in {"", ".", ".."} for segment in segments):
            raise invalid(
                "storage_key_invalid",
                "storage_key must be a relative path like demo/video/720p25.mp4, without '..'",
            )
        return value

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: timedelta) -> timedelta:
        return require_positive_duration(value)

    @model_validator(mode="after")
    def _has_a_stream(self) -> Self:
        if self.video_format is None and self.audio_format is None:
            raise invalid(
                "rendition_without_stream", "a rendition needs video_format or audio_format"
            )
        return self


class PublicRendition(OutputModel):
    """A rendition as the public API shows it: everything except where it is stored."""

    id: str
    label: str
    container_format: str
    mime_type: str
    file_name: str
    file_size: int
    sha256: str
    duration: timedelta
    overall_bit_rate: int
    video_format: VideoFormat | None = None
    audio_format: AudioFormat | None = None
