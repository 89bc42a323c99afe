"""Domain errors as RFC 9457 problem documents, and their OpenAPI documentation.

The answers are chosen so they reveal nothing about which addresses have accounts: a refused
sign-in is ``invalid_credentials`` (401) whether the password was wrong, the address unknown
or the address throttled (then with ``Retry-After``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from portal_shared.problems import ProblemMapper, ProblemSpec

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
    ResetNotFound,
    ResetTokenRejected,
    SignInThrottled,
    UnsubscribeLinkInvalid,
)


def to_problem(exc: DomainError) -> ProblemSpec:
    """The answer of each domain error (the first case that matches)."""
    match exc:
        case PasswordRejected():
            title = "The password does not meet the rules"
            return ProblemSpec(422, exc.code, title, {"violations": list(exc.violations)})
        case EmailNotSupported():
            return ProblemSpec(
                422, exc.code, "Letters beyond ASCII before the @ cannot be mailed yet"
            )
        case InvalidEmail():
            return ProblemSpec(422, exc.code, "This is not a valid email address")
        case SignInThrottled():
            title = "Wrong email address or password"
            return ProblemSpec(401, exc.code, title, headers=_retry(exc.retry_after))
        case InvalidCredentials():
            return ProblemSpec(401, exc.code, "Wrong email address or password")
        case CurrentPasswordWrong():
            return ProblemSpec(403, exc.code, "The current password is not right")
        case UnsubscribeLinkInvalid():
            return ProblemSpec(403, exc.code, "This unsubscribe link is not valid")
        case AccountNotVerified():
            return ProblemSpec(403, exc.code, "Verify your email address first")
        case RateLimited():
            title = "Too many requests, try again later"
            return ProblemSpec(429, exc.code, title, headers=_retry(exc.retry_after))
        case CodeRejected() if exc.retry_after:
            title = "Too many wrong codes, try again later"
            reason = {"reason": exc.reason}
            return ProblemSpec(429, exc.code, title, reason, _retry(exc.retry_after))
        case CodeRejected():
            return ProblemSpec(400, exc.code, "The code is not valid", {"reason": exc.reason})
        case RegistrationNotFound():
            return ProblemSpec(404, exc.code, "This registration is over, register again")
        case ResetNotFound():
            return ProblemSpec(404, exc.code, "This password reset is over, ask for a new one")
        case RefreshRejected():
            return ProblemSpec(401, exc.code, "Sign in again", {"reason": exc.reason})
        case ResetTokenRejected():
            return ProblemSpec(400, exc.code, "This reset link is no longer valid")
        case NotAuthenticated():
            missing = exc.reason == "missing_token"
            challenge = {
                "WWW-Authenticate": "Bearer" if missing else 'Bearer error="invalid_token"'
            }
            title = "Authentication required"
            return ProblemSpec(401, exc.code, title, {"reason": exc.reason}, challenge)
        case ConcurrentUpdate():
            return ProblemSpec(409, exc.code, "The account changed meanwhile, try again")
    return ProblemSpec(400, exc.code, "The request cannot be completed")


def _retry(seconds: int) -> dict[str, str]:
    return {"Retry-After": str(seconds)}


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
    "reset_not_found": ResetNotFound(),
    "refresh_rejected": RefreshRejected("reused"),
    "reset_token_rejected": ResetTokenRejected(),
    "not_authenticated": NotAuthenticated("token_expired"),
    "conflict": ConcurrentUpdate(),
}


MAPPER = ProblemMapper(DomainError, to_problem, EXAMPLES)


def install_error_handlers(app: FastAPI) -> None:
    MAPPER.install(app)


def problems(*names: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a route: each status with example problem documents."""
    return MAPPER.responses(*names)
