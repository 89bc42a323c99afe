"""Error answers of every service: one list of codes, one problem shape, one mapper.

- ``portal_shared.error_codes.ErrorCode`` is the single list of the stable ``code`` values any
  service answers with (``docs/ERRORS.md`` is generated from it).
- Every error answer is an RFC 9457 problem document (``application/problem+json``):
  ``type`` (``/problems/<code>``), ``title``, ``status``, ``code``, optionally ``detail`` and
  ``instance``, plus members of its own (``errors`` for a validation problem, ``reason``...).
- ``ProblemMapper`` is how a service's ``entrypoints/errors.py`` turns its domain errors into
  problems: the service gives one function from its base domain error to a ``ProblemSpec``
  and one example of each error; the mapper installs the exception handler and writes the
  OpenAPI ``responses`` of a route from the same function, so documents and answers agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from portal_shared.error_codes import ERROR_CODES, ErrorCode, code_of_status

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


class Problem(Exception):
    """Raise (in entrypoints) to answer with an RFC 9457 problem document."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(f"{status} {code}: {title}")
        self.status, self.code, self.title, self.detail = status, code, title, detail
        self.headers = headers or {}
        self.extra = extra


def problem_body(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    instance: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "code": str(code),
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, code, title, detail, **extra),
        status_code=status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=dict(headers) if headers else None,
    )


def problem_answer(problem: Problem, instance: str | None) -> JSONResponse:
    """The response to a raised ``Problem`` (``instance``: the request's path)."""
    return problem_response(
        problem.status,
        problem.code,
        problem.title,
        problem.detail,
        headers=problem.headers,
        instance=instance,
        **problem.extra,
    )


VALIDATION_TITLE = "The request is not valid"
VALIDATION_DETAIL = "See errors for the fields to fix."


def validation_errors(
    errors: Iterable[Mapping[str, Any]], location: str | None = None
) -> list[dict[str, Any]]:
    """pydantic's errors as ``{loc, type, msg}``, never echoing the input back (it may be long,
    or not meant for logs). ``location`` ("body", "query") is put in front of each ``loc``
    when the errors come from validating one part of the request by hand."""
    prefix = [location] if location else []
    return [
        {
            "loc": [*prefix, *(str(part) for part in error.get("loc", ()))],
            "type": error.get("type"),
            "msg": error.get("msg"),
        }
        for error in errors
    ]


def validation_problem(errors: list[dict[str, Any]]) -> Problem:
    """The one 422 ``validation_error`` problem, whether FastAPI or a service found the fault."""
    return Problem(
        422, ErrorCode.VALIDATION_ERROR, VALIDATION_TITLE, VALIDATION_DETAIL, errors=errors
    )


VALIDATION_EXAMPLE = problem_body(
    422,
    ErrorCode.VALIDATION_ERROR,
    VALIDATION_TITLE,
    VALIDATION_DETAIL,
    errors=[{"loc": ["body", "email"], "type": "missing", "msg": "Field required"}],
)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for routes: each status documented as a problem."""
    return {
        status: {
            "description": code_of_status(status).replace("_", " "),
            "content": {
                PROBLEM_CONTENT_TYPE: {
                    "schema": PROBLEM_REF,
                    "example": problem_body(
                        status,
                        code_of_status(status),
                        code_of_status(status).replace("_", " ").capitalize(),
                    ),
                }
            },
        }
        for status in statuses
    }


@dataclass(frozen=True)
class ProblemSpec:
    """How one domain error answers: status, code, title, extra members and headers."""

    status: int
    code: str
    title: str
    extra: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    detail: str | None = None


E = TypeVar("E", bound=Exception)


class ProblemMapper(Generic[E]):
    """One service's mapping from its domain errors to problem documents.

    ``to_problem`` decides the answer of each error; ``examples`` names one instance of each
    error a route may document (``responses("slug_taken", ...)``). ``install`` makes every
    ``error_type`` a route lets escape answer through ``to_problem``.
    """

    def __init__(
        self,
        error_type: type[E],
        to_problem: Callable[[E], ProblemSpec],
        examples: Mapping[str, E],
    ) -> None:
        self.error_type = error_type
        self.to_problem = to_problem
        self.examples = dict(examples)

    def install(self, app: FastAPI) -> None:
        async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
            problem = self.problem(exc)  # type: ignore[arg-type]  # only error_type comes here
            return problem_answer(problem, request.url.path)

        app.add_exception_handler(self.error_type, _domain_error)

    def problem(self, exc: E) -> Problem:
        """The same answer as an exception to raise (where a domain error is caught)."""
        spec = self.to_problem(exc)
        return Problem(
            spec.status,
            spec.code,
            spec.title,
            spec.detail,
            headers=dict(spec.headers),
            **spec.extra,
        )

    def responses(self, *names: str, validation: bool = True) -> dict[int | str, dict[str, Any]]:
        """OpenAPI ``responses`` for a route: each status with example problem documents,
        plus the 422 validation problem any route with parameters or a body can answer."""
        by_status: dict[int, dict[str, Any]] = {}
        for name in names:
            spec = self.to_problem(self.examples[name])
            body = problem_body(spec.status, spec.code, spec.title, spec.detail, **spec.extra)
            entry = by_status.setdefault(spec.status, {"description": spec.title, "examples": {}})
            entry["examples"][name] = {"summary": spec.title, "value": body}
            for header in spec.headers:
                entry.setdefault("headers", {})[header] = {
                    "schema": {"type": "string"},
                    "description": header,
                }
        if validation:
            entry = by_status.setdefault(422, {"description": "invalid request", "examples": {}})
            entry["examples"]["validation_error"] = {
                "summary": "a field is missing or malformed",
                "value": VALIDATION_EXAMPLE,
            }
        return {
            status: {
                "description": entry["description"],
                "headers": entry.get("headers", {}),
                "content": {
                    PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF, "examples": entry["examples"]}
                },
            }
            for status, entry in by_status.items()
        }


def error_codes_markdown() -> str:
    """``docs/ERRORS.md``: the list of codes, generated from ``ERROR_CODES``."""
    lines = [
        "# Error codes",
        "",
        "Every error answer of every service is an RFC 9457 problem document",
        "(`application/problem+json`) whose `code` is one of these. Generated from",
        "`portal_shared.error_codes.ERROR_CODES` by `python -m portal_shared.problems`;",
        "a test keeps this file and the list the same.",
        "",
        "| code | meaning |",
        "|---|---|",
    ]
    lines += [f"| `{code.value}` | {meaning} |" for code, meaning in ERROR_CODES.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(error_codes_markdown(), end="")
