"""Turning domain validation errors into the same 422 problem the request validator gives."""

from __future__ import annotations

from typing import Any, TypeVar

from portal_shared.http import Problem
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def validation_problem(exc: ValidationError, location: str = "body") -> Problem:
    """422 with ``errors``: each with ``loc``, the stable error id as ``type``, and ``msg``.

    Input values are not echoed back (they may be long, or not meant for logs)."""
    errors = [
        {
            "loc": [location, *(str(part) for part in error["loc"])],
            "type": error["type"],
            "msg": error["msg"],
        }
        for error in exc.errors(include_input=False, include_url=False)
    ]
    return Problem(
        422,
        "validation_error",
        "The request is not valid",
        "See errors for the fields to fix.",
        errors=errors,
    )


def validated(model: type[M], values: dict[str, Any], location: str) -> M:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise validation_problem(exc, location) from None
