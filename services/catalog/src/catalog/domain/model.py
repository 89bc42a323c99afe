"""Pydantic base classes shared by the catalog's domain models.

The catalog's API speaks snake_case JSON like every service of the portal (EBUCore terms
keep their meaning under snake names: ``frame_rate``, ``file_size``, ``scanning_format``...);
JSON-LD bodies keep schema.org's names. Stored documents keep the camelCase field names they
always had (``catalog.domain.documents`` renames at the storage edge), so no data migrates.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic_core import PydanticCustomError

_COMMON = ConfigDict(str_strip_whitespace=True)


class InputModel(BaseModel):
    """What editors send: unknown fields are an error, so a typo never passes silently."""

    model_config = ConfigDict(**_COMMON, extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # The database (PostgreSQL under FerretDB) cannot store NUL in text: refuse it here
        # (422) rather than fail at the write (500). Nested models check their own fields.
        if _holds_nul(value):
            raise invalid("nul_character", "Text may not contain a NUL character")
        return value


class OutputModel(BaseModel):
    """What the API returns: built from stored values, extra stored fields are dropped."""

    model_config = ConfigDict(**_COMMON, extra="ignore", frozen=True)


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_holds_nul(item) for item in value)
    return False


def invalid(error_id: str, message: str, **context: Any) -> PydanticCustomError:
    """A validation error whose ``type`` is a stable id a page or client can translate."""
    return PydanticCustomError(error_id, message, context or None)
