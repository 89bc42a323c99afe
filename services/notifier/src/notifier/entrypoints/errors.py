"""The notifier's error answers: its domain errors as problem documents, on the shared mapper
(``portal_shared.problems``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from portal_shared.problems import ProblemMapper, ProblemSpec

from notifier.domain.errors import DeliveryNotFound


def to_problem(exc: DeliveryNotFound) -> ProblemSpec:
    detail = "The notifier has no record of an email for this event id (yet)."
    return ProblemSpec(404, exc.code, "No delivery for this event", detail=detail)


MAPPER = ProblemMapper(DeliveryNotFound, to_problem, {"delivery_not_found": DeliveryNotFound()})


def install_error_handlers(app: FastAPI) -> None:
    MAPPER.install(app)


def problems(*names: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route: each status with example problem documents."""
    return MAPPER.responses(*names)
