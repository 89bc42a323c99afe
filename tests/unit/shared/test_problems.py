"""The one list of error codes and the shared domain-error mapper (pure, in-process)."""

from __future__ import annotations

import ast
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_shared.error_codes import ERROR_CODES, ErrorCode
from portal_shared.problems import (
    PROBLEM_CONTENT_TYPE,
    ProblemMapper,
    ProblemSpec,
    error_codes_markdown,
)

ROOT = Path(__file__).resolve().parents[3]
_PROBLEM_CALLS = {"Problem", "problem_response", "problem_body", "ProblemSpec"}


def _codes_in_sources() -> dict[str, str]:
    """Every literal problem code in the services' and shared sources: the second argument of
    ``Problem(...)``/``problem_response(...)``/``ProblemSpec(...)``, ``ErrorCode.X`` and each
    ``code = "..."`` class attribute of a domain error."""
    found: dict[str, str] = {}
    sources = [*ROOT.glob("services/*/src/**/*.py"), *ROOT.glob("shared/src/**/*.py")]
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            value: ast.expr | None = None
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in _PROBLEM_CALLS and len(node.args) > 1:
                    value = node.args[1]
            elif isinstance(node, ast.Assign) and any(
                getattr(target, "id", None) == "code" for target in node.targets
            ):
                value = node.value
            elif (
                isinstance(node, ast.Attribute)
                and getattr(node.value, "id", None) == "ErrorCode"
                and node.attr.isupper()
            ):
                found[node.attr.lower()] = str(path.relative_to(ROOT))
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found[value.value] = str(path.relative_to(ROOT))
    return found


def test_every_code_the_sources_answer_with_is_in_the_one_list() -> None:
    used = _codes_in_sources()
    assert len(used) > 20  # the scan does find the services' codes
    unknown = {code: where for code, where in used.items() if code not in set(ErrorCode)}
    assert unknown == {}


def test_every_code_is_documented_and_the_document_is_current() -> None:
    assert set(ERROR_CODES) == set(ErrorCode)
    assert all(meaning.strip() for meaning in ERROR_CODES.values())
    assert (ROOT / "docs" / "ERRORS.md").read_text() == error_codes_markdown()


class _Missing(Exception):
    def __init__(self, retry_after: int | None = None) -> None:
        self.retry_after = retry_after


def _to_problem(exc: _Missing) -> ProblemSpec:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
    return ProblemSpec(404, ErrorCode.VIDEO_NOT_FOUND, "No such video", {"id": "x"}, headers)


MAPPER = ProblemMapper(_Missing, _to_problem, {"video_not_found": _Missing(3)})


def test_the_mapper_answers_a_domain_error_with_its_problem() -> None:
    app = FastAPI()
    MAPPER.install(app)

    @app.get("/videos/x")
    async def _video() -> None:
        raise _Missing(5)

    response = TestClient(app).get("/videos/x")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert response.headers["retry-after"] == "5"
    assert response.json() == {
        "type": "/problems/video_not_found",
        "title": "No such video",
        "status": 404,
        "code": "video_not_found",
        "instance": "/videos/x",
        "id": "x",
    }


def test_the_mapper_documents_what_it_answers() -> None:
    documented = MAPPER.responses("video_not_found")
    assert set(documented) == {404, 422}
    examples = documented[404]["content"][PROBLEM_CONTENT_TYPE]["examples"]
    assert examples["video_not_found"]["value"]["code"] == "video_not_found"
    assert "Retry-After" in documented[404]["headers"]
    assert set(MAPPER.responses("video_not_found", validation=False)) == {404}
    problem = MAPPER.problem(_Missing())
    assert (problem.status, problem.code, problem.extra) == (404, "video_not_found", {"id": "x"})
