"""Domain errors as RFC 9457 problem documents, and their OpenAPI documentation.

The answers are chosen so they reveal nothing about which addresses have accounts: a refused
sign-in is ``invalid_credentials`` (401) whether the password was wrong, the address unknown
or the address throttled (then with ``Retry-After``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from portal_shared.http import PROBLEM_CONTENT_TYPE, problem_body, problem_response

from identity.domain.errors import (
    AccountNotVerified,
    CodeRejected,
    ConcurrentUpdate,
    CurrentPasswordWrong,
    DomainError,
    EmailNotSupported,
    InvalidCredentials,
    InvalidEmail,
    NotAuthenticated,
    PasswordRejected,
    RateLimited,
    RefreshRejected,
    RegistrationNotFound,
    ResetTokenRejected,
    SignInThrottled,
    UnsubscribeLinkInvalid,
)

Problem = tuple[int, str, str, dict[str, Any], dict[str, str]]


def _problem(exc: DomainError) -> Problem:
    match exc:
        case PasswordRejected():
            return 422, exc.code, "The password does not meet the rules", {
                "violations": list(exc.violations)}, {}  # fmt: skip
        case EmailNotSupported():
            return 422, exc.code, "Letters beyond ASCII before the @ cannot be mailed yet", {}, {}
        case InvalidEmail():
            return 422, exc.code, "This is not a valid email address", {}, {}
        case SignInThrottled():
            return 401, exc.code, "Wrong email address or password", {}, _retry(exc.retry_after)
        case InvalidCredentials():
            return 401, exc.code, "Wrong email address or password", {}, {}
        case CurrentPasswordWrong():
            return 403, exc.code, "The current password is not right", {}, {}
        case UnsubscribeLinkInvalid():
            return 403, exc.code, "This unsubscribe link is not valid", {}, {}
        case AccountNotVerified():
            return 403, exc.code, "Verify your email address first", {}, {}
        case RateLimited():
            return 429, exc.code, "Too many requests, try again later", {}, _retry(exc.retry_after)
        case CodeRejected() if exc.retry_after:
            return 429, exc.code, "Too many wrong codes, try again later", {
                "reason": exc.reason}, _retry(exc.retry_after)  # fmt: skip
        case CodeRejected():
            return 400, exc.code, "The code is not valid", {"reason": exc.reason}, {}
        case RegistrationNotFound():
            return 404, exc.code, "This registration is over, register again", {}, {}
        case RefreshRejected():
            return 401, exc.code, "Sign in again", {"reason": exc.reason}, {}
        case ResetTokenRejected():
            return 400, exc.code, "This reset link is no longer valid", {}, {}
        case NotAuthenticated():
            missing = exc.reason == "missing_token"
            challenge = "Bearer" if missing else 'Bearer error="invalid_token"'
            return 401, exc.code, "Authentication required", {"reason": exc.reason}, {
                "WWW-Authenticate": challenge}  # fmt: skip
        case ConcurrentUpdate():
            return 409, exc.code, "The account changed meanwhile, try again", {}, {}
    return 400, exc.code, "The request cannot be completed", {}, {}


def _retry(seconds: int) -> dict[str, str]:
    return {"Retry-After": str(seconds)}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
        status, code, title, extra, headers = _problem(exc)
        return problem_response(
            status, code, title, headers=headers, instance=request.url.path, **extra
        )


EXAMPLES: dict[str, DomainError] = {
    "password_rejected": PasswordRejected(["too_short", "missing_digit", "missing_symbol"]),
    "invalid_email": InvalidEmail(),
    "email_not_supported": EmailNotSupported(),
    "invalid_credentials": InvalidCredentials(),
    "sign_in_throttled": SignInThrottled(30),
    "account_not_verified": AccountNotVerified(),
    "current_password_wrong": CurrentPasswordWrong(),
    "unsubscribe_link_invalid": UnsubscribeLinkInvalid(),
    "rate_limited": RateLimited(42),
    "code_wrong": CodeRejected("wrong"),
    "code_expired": CodeRejected("expired"),
    "code_too_many_attempts": CodeRejected("too_many_attempts"),
    "code_account_locked": CodeRejected("account_locked", 1800),
    "registration_not_found": RegistrationNotFound(),
    "refresh_rejected": RefreshRejected("reused"),
    "reset_token_rejected": ResetTokenRejected(),
    "not_authenticated": NotAuthenticated("token_expired"),
    "conflict": ConcurrentUpdate(),
}


VALIDATION_EXAMPLE = problem_body(
    422,
    "validation_error",
    "The request is not valid",
    "See errors for the fields to fix.",
    errors=[{"loc": ["body", "email"], "type": "missing", "msg": "Field required"}],
)


def problems(*names: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route: each status with example problem documents."""
    by_status: dict[int, dict[str, Any]] = {}
    for name in names:
        status, code, title, extra, headers = _problem(EXAMPLES[name])
        body = problem_body(status, code, title, **extra)
        entry = by_status.setdefault(status, {"description": title, "examples": {}})
        entry["examples"][name] = {"summary": title, "value": body}
        if headers:
            entry.setdefault("headers", {}).update(
                {h: {"schema": {"type": "string"}, "description": h} for h in headers}
            )
    # Any route with a body or parameters can also fail FastAPI's own validation.
    entry = by_status.setdefault(422, {"description": "invalid request", "examples": {}})
    entry["examples"]["validation_error"] = {"summary": "a field is missing or malformed",
                                             "value": VALIDATION_EXAMPLE}  # fmt: skip
    return {
        status: {
            "description": entry["description"],
            "headers": entry.get("headers", {}),
            "content": {
                PROBLEM_CONTENT_TYPE: {
                    "schema": {"$ref": "#/components/schemas/Problem"},
                    "examples": entry["examples"],
                }
            },
        }
        for status, entry in by_status.items()
    }


CODE_PROBLEMS = problems(
    "rate_limited",
    "code_wrong",
    "code_expired",
    "code_too_many_attempts",
    "code_account_locked",
    "invalid_email",
    "conflict",
)
