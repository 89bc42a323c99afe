"""Pydantic base classes shared by the catalog's domain models.

The catalog's API speaks snake_case JSON like every service of the portal (EBUCore terms
keep their meaning under snake names: ``frame_rate``, ``file_size``, ``scanning_format``...);
JSON-LD bodies keep schema.org's names. Stored documents keep the camelCase field names they
always had (``catalog.domain.documents`` renames at the storage edge), so no data migrates.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

_COMMON = ConfigDict(str_strip_whitespace=True)


class InputModel(BaseModel):
    """What editors send: unknown fields are an error, so a typo never passes silently."""

    model_config = ConfigDict(**_COMMON, extra="forbid", frozen=True)


class OutputModel(BaseModel):
    """What the API returns: built from stored values, extra stored fields are dropped."""

    model_config = ConfigDict(**_COMMON, extra="ignore", frozen=True)


def invalid(error_id: str, message: str, **context: Any) -> PydanticCustomError:
    """A validation error whose ``type`` is a stable id a page or client can translate."""
    return PydanticCustomError(error_id, message, context or None)
