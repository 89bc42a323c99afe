"""The HTTP app factory every service uses: ops endpoints, request ids, problem documents.

- ``/healthz``: the process is alive; ``/readyz``: the service's readiness checks pass
  (MongoDB answers, the AMQP channel is open, consumers are registered); ``/metrics``.
- Every request gets an ``X-Request-ID`` (taken from the request or made) and a W3C trace
  context (``traceparent`` taken or started), both bound to the log context and to events the
  request causes; one ``http_request`` log line per request with method, path, status, duration.
- Errors are RFC 9457 problem documents (``application/problem+json``) with a stable ``code``
  a page can translate; validation errors list the fields without echoing the input back.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry.trace import StatusCode
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pymongo.errors import ConnectionFailure, ExecutionTimeout, OperationFailure, WTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal_shared.docs import install_docs
from portal_shared.error_codes import ErrorCode, code_of_status
from portal_shared.logging import get_logger
from portal_shared.metrics import READY, bounded_method, observe_http
from portal_shared.pagination import BadCursor
from portal_shared.problems import (
    PROBLEM_CONTENT_TYPE,
    PROBLEM_REF,
    Problem,
    problem_answer,
    problem_body,
    problem_response,
    problem_responses,
    validation_errors,
    validation_problem,
)
from portal_shared.tracing import (
    configure_tracing,
    current_correlation_id,
    server_span,
    traceparent_of,
)

log = get_logger("portal.http")

ReadinessCheck = Callable[[], Awaitable[bool]]
DatabaseUnreachable = Callable[[], bool]
# Seconds a client should wait before trying again while the database is away: the driver
# looks for it every half second, so one second is enough to find it back.
DATABASE_RETRY_AFTER = "1"
# Paths that never touch the database: served even while it is away.
_NO_DATABASE_PATHS = ("/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/openapi.json")
Collector = Callable[[], Awaitable[None]]  # refreshes gauges before a scrape


def _install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_answer(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return await _problem(request, validation_problem(validation_errors(exc.errors())))

    @app.exception_handler(BadCursor)
    async def _bad_cursor(request: Request, exc: BadCursor) -> JSONResponse:
        return await _problem(request, bad_cursor_problem(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = code_of_status(exc.status_code)
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request.app, request.scope))
        return problem_response(
            exc.status_code,
            code,
            code.replace("_", " ").capitalize(),
            detail,
            headers=headers,
            instance=request.url.path,
        )

    @app.exception_handler(ConnectionFailure)
    @app.exception_handler(ExecutionTimeout)
    @app.exception_handler(WTimeoutError)
    async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # The database is down, restarting or unreachable: nothing the caller did wrong, and
        # nothing accepted is lost (every write is one document, all or nothing).
        log.warning("database_unavailable", error=repr(exc), path=request.url.path)
        return database_unavailable_response(request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if _database_shutting_down(exc):
            log.warning("database_unavailable", error=repr(exc), path=request.url.path)
            return database_unavailable_response(request.url.path)
        log.error("http_unhandled_error", error=repr(exc), path=request.url.path, exc_info=exc)
        return problem_response(
            500,
            ErrorCode.INTERNAL_ERROR,
            "Something went wrong on our side",
            instance=request.url.path,
        )


def bad_cursor_problem(exc: BadCursor) -> Problem:
    return Problem(400, ErrorCode.BAD_CURSOR, _BAD_CURSOR_TITLE, str(exc))


def database_unavailable_response(path: str | None) -> JSONResponse:
    return problem_response(
        503,
        ErrorCode.DATABASE_UNAVAILABLE,
        "The service cannot reach its database right now; try again shortly",
        headers={"Retry-After": DATABASE_RETRY_AFTER},
        instance=path,
    )


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """Every method some route serves at this path. Starlette's 405 names only the first route
    whose path matched, though several routes (GET, PATCH, DELETE...) may share one path."""
    methods: set[str] = set()
    for route in app.router.routes:
        if not isinstance(route, BaseRoute) or getattr(route, "methods", None) is None:
            continue
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            methods |= set(route.methods)  # type: ignore[attr-defined]
    return sorted(methods)


def _database_shutting_down(exc: Exception) -> bool:
    """FerretDB stopped mid-operation answers InternalError "context canceled": the database
    going away, not a bug of ours."""
    return isinstance(exc, OperationFailure) and exc.code == 1 and "context canceled" in str(exc)


class RequestContextMiddleware:
    """Request id, trace context, access log line and metrics, as plain ASGI (cheap).

    While ``database_unreachable()`` says the driver has no server to talk to, a request that
    may need the database is answered 503 at once: it would otherwise wait out the driver's
    server-selection timeout (seconds) only to fail the same way.
    """

    def __init__(
        self, app: ASGIApp, service: str, database_unreachable: DatabaseUnreachable | None = None
    ) -> None:
        self.app = app
        self.service = service
        self.database_unreachable = database_unreachable

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        if _has_nul(scope):
            # No stored text holds NUL (PostgreSQL-backed stores cannot even compare against
            # it), so a path or query carrying one is refused before any route sees it.
            response = problem_response(
                400, ErrorCode.INVALID_CHARACTERS, "The URL holds a NUL character", instance=None
            )
            await response(scope, receive, send)
            return
        request_id = _clean_id(headers.get("x-request-id")) or str(uuid.uuid4())
        current_correlation_id.set(request_id)
        status = 500
        started = time.perf_counter()
        method = bounded_method(scope.get("method", ""))
        attributes = {"http.request.method": method, "url.path": scope.get("path", "")}

        with (
            server_span(method, headers.get("traceparent"), attributes) as span,
            structlog.contextvars.bound_contextvars(
                request_id=request_id, correlation_id=request_id
            ),
        ):
            traceparent = (traceparent_of(span) or "").encode()

            async def send_with_ids(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message.setdefault("headers", [])
                    message["headers"] = [
                        *message["headers"],
                        (b"x-request-id", request_id.encode()),
                        (b"traceparent", traceparent),
                    ]
                await send(message)

            try:
                if self._refuse_for_database(scope):
                    log.warning("database_unavailable", error="unreachable", path=scope["path"])
                    response = database_unavailable_response(scope["path"])
                    await response(scope, receive, send_with_ids)
                else:
                    await self.app(scope, receive, send_with_ids)
            finally:
                self._observe(scope, span, method, status, time.perf_counter() - started)

    def _refuse_for_database(self, scope: Scope) -> bool:
        if self.database_unreachable is None or not self.database_unreachable():
            return False
        path: str = scope.get("path", "")
        return not path.startswith(_NO_DATABASE_PATHS) and not path.startswith("/.well-known/")

    def _observe(self, scope: Scope, span: Any, method: str, status: int, elapsed: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "<unmatched>"
        span.update_name(f"{method} {template}")
        span.set_attribute("http.route", template)
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(StatusCode.ERROR)
        observe_http(self.service, method, template, status, elapsed)
        if template in {"/healthz", "/readyz", "/metrics"} and status < 400:
            return
        log.info(
            "http_request",
            **{
                "http.request.method": method,
                "url.path": scope.get("path"),
                "http.route": template,
                "http.response.status_code": status,
                "duration_ms": round(elapsed * 1000, 2),
            },
        )


def _has_nul(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope.get("path", "") or b"\x00" in query or b"%00" in query.lower()


def _clean_id(value: str | None) -> str | None:
    if value and len(value) <= 128 and all(c.isalnum() or c in "-_.:" for c in value):
        return value
    return None


def ops_router(
    service: str, checks: dict[str, ReadinessCheck], collect: Collector | None = None
) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "alive", "service": service}

    @router.get(
        "/readyz",
        summary="Dependencies answer and consumers are registered",
        responses=problem_responses(503),
    )
    async def readyz() -> Response:
        names = list(checks)
        results = await asyncio.gather(*(_run_check(checks[n]) for n in names))
        outcome = dict(zip(names, results, strict=True))
        ready = all(results)
        READY.labels(service).set(1 if ready else 0)
        if ready:
            return JSONResponse({"status": "ready", "service": service, "checks": outcome})
        return problem_response(
            503, ErrorCode.NOT_READY, "Not ready", service=service, checks=outcome
        )

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        if collect is not None:
            try:
                await asyncio.wait_for(collect(), timeout=3)
            except Exception as exc:  # the scrape still answers, with the last values
                log.warning("metrics_collect_failed", error=repr(exc))
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


async def _run_check(check: ReadinessCheck) -> bool:
    try:
        return await asyncio.wait_for(check(), timeout=3)
    except Exception:
        return False


# FastAPI's own OpenTelemetry instrumentation (FastAPI >= 0.16x, on whenever a tracer provider
# is installed, as portal_shared.tracing does) would add a second SERVER span around ours and
# spans for dependency resolution, the endpoint and serialisation on every request: about a
# tenth of a download link's CPU in the catalog's profile. The request's span is
# RequestContextMiddleware's (portal_shared.tracing); older FastAPI has nothing to turn off.
_NO_NATIVE_TELEMETRY: dict[str, Any] = (
    {"telemetry": {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}}
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters
    else {}
)


def create_app(
    *,
    service: str,
    title: str,
    description: str,
    version: str = "1.0.0",
    routers: Sequence[APIRouter] = (),
    checks: dict[str, ReadinessCheck] | None = None,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[Any]] | None = None,
    openapi_tags: list[dict[str, Any]] | None = None,
    database_unreachable: DatabaseUnreachable | None = None,
    collect: Collector | None = None,
) -> FastAPI:
    configure_tracing(service)
    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        openapi_tags=openapi_tags,
        docs_url=None,  # served from the service's own assets, see portal_shared.docs
        redoc_url=None,
        **_NO_NATIVE_TELEMETRY,
    )
    install_docs(app)
    app.include_router(ops_router(service, checks or {}, collect))
    for router in routers:
        app.include_router(router)
    _install_problem_handlers(app)
    app.add_middleware(
        RequestContextMiddleware, service=service, database_unreachable=database_unreachable
    )
    _add_problem_schema(app)
    return app


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem document; `code` is a stable id pages translate.",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "additionalProperties": True,
}
_PROBLEM_REF = PROBLEM_REF
_BAD_URL = "The URL holds a NUL character (`invalid_characters`)"
_NOT_JSON = "the body is not UTF-8 JSON (`bad_request`)"
_BAD_URL_EXAMPLE = problem_body(400, ErrorCode.INVALID_CHARACTERS, "The URL holds a NUL character")
_NOT_JSON_EXAMPLE = problem_body(
    400, ErrorCode.BAD_REQUEST, "Bad request", "There was an error parsing the body"
)
_BAD_CURSOR_TITLE = "This cursor is not the next_cursor of this list"
_BAD_CURSOR = f"{_BAD_CURSOR_TITLE} (`bad_cursor`)"
_BAD_CURSOR_EXAMPLE = problem_body(
    400, ErrorCode.BAD_CURSOR, _BAD_CURSOR_TITLE, "cursor does not decode"
)
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def truthful_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """What every service's OpenAPI document says the same way, as the code answers:

    - every error answer (4xx, 5xx) is an ``application/problem+json`` Problem, 422 included
      (FastAPI documents its own ``HTTPValidationError`` as ``application/json``);
    - every operation documents the 400 any URL holding NUL gets (the database cannot store or
      compare it), one that reads a JSON body the 400 for a body that is not UTF-8 JSON, and
      one with a ``cursor`` parameter the 400 ``bad_cursor``.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            body = operation.get("requestBody", {}).get("content", {})
            paged = any(
                p.get("in") == "query" and p.get("name") == "cursor"
                for p in operation.get("parameters", [])
            )
            reasons = [
                _BAD_URL,
                *([_NOT_JSON] if "application/json" in body else []),
                *([_BAD_CURSOR] if paged else []),
            ]
            existing = responses.get("400") or {}
            if existing.get("description") not in (None, "bad request"):
                reasons.append(existing["description"])
            problem = dict((existing.get("content") or {}).get(PROBLEM_CONTENT_TYPE) or {})
            problem.setdefault("schema", _PROBLEM_REF)
            examples = dict(problem.get("examples") or {})
            examples.setdefault("invalid_characters", {"value": _BAD_URL_EXAMPLE})
            if "application/json" in body:
                examples.setdefault("bad_request", {"value": _NOT_JSON_EXAMPLE})
            if paged:
                examples.setdefault("bad_cursor", {"value": _BAD_CURSOR_EXAMPLE})
            problem["examples"] = examples
            problem.pop("example", None)
            responses["400"] = {
                **existing,
                "description": "; ".join(reasons),
                "content": {PROBLEM_CONTENT_TYPE: problem},
            }
            for status, response in responses.items():
                if str(status)[:1] not in {"4", "5"}:
                    continue
                content = response.get("content") or {}
                if PROBLEM_CONTENT_TYPE not in content:
                    response["content"] = {PROBLEM_CONTENT_TYPE: {"schema": _PROBLEM_REF}}
                else:
                    response["content"] = {PROBLEM_CONTENT_TYPE: content[PROBLEM_CONTENT_TYPE]}
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused in components and f"#/components/schemas/{unused}" not in repr(schema["paths"]):
            del components[unused]
    return schema


def _add_problem_schema(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        app.openapi_schema = truthful_openapi(original())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = [  # the problem helpers routes import from here (defined in portal_shared.problems)
    "PROBLEM_CONTENT_TYPE",
    "Problem",
    "create_app",
    "problem_body",
    "problem_response",
    "problem_responses",
]
