"""Pydantic base classes shared by the catalog's domain models.

The catalog speaks camelCase JSON (the API and the stored documents), because its technical
metadata follows EBUCore names (``frameRate``, ``fileSize``, ``scanningFormat``...) and one
casing per document is easier on clients than two. Python attributes stay snake_case.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

_CAMEL = ConfigDict(
    alias_generator=to_camel,
    validate_by_name=True,
    validate_by_alias=True,
    serialize_by_alias=True,
    str_strip_whitespace=True,
)


class InputModel(BaseModel):
    """What editors send: unknown fields are an error, so a typo never passes silently."""

    model_config = ConfigDict(**_CAMEL, extra="forbid", frozen=True)


class OutputModel(BaseModel):
    """What the API returns: built from stored values, extra stored fields are dropped."""

    model_config = ConfigDict(**_CAMEL, extra="ignore", frozen=True)


def invalid(error_id: str, message: str, **context: Any) -> PydanticCustomError:
    """A validation error whose ``type`` is a stable id a page or client can translate."""
    return PydanticCustomError(error_id, message, context or None)
