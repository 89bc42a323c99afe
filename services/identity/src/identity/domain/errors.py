"""Domain errors of the identity service.

Each error class carries a stable ``code`` that never changes once published: the HTTP layer
maps it to an RFC 9457 problem document (``type`` built from the code) and the pages translate
it. Messages are for logs and developers only and never contain a secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from portal_shared.error_codes import ErrorCode


class DomainError(Exception):
    """Base of every error the identity domain raises on purpose."""

    code: ClassVar[str] = ErrorCode.BAD_REQUEST

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.code)


class InvalidEmail(DomainError):
    """The address is not a syntactically valid email address."""

    code = ErrorCode.INVALID_EMAIL


class EmailNotSupported(InvalidEmail):
    """A valid address the portal cannot mail: letters beyond ASCII before the @ (SMTPUTF8).

    Refused at registration rather than accepted and never delivered; internationalised
    domains (after the @) are fine."""

    code = ErrorCode.EMAIL_NOT_SUPPORTED


class PasswordRejected(DomainError):
    """The password breaks one or more rules; ``violations`` lists every broken rule's id."""

    code = ErrorCode.PASSWORD_REJECTED

    def __init__(self, violations: Sequence[str]) -> None:
        self.violations: tuple[str, ...] = tuple(violations)
        super().__init__("password breaks: " + ", ".join(self.violations))


class InvalidCredentials(DomainError):
    """Generic sign-in failure: wrong address or password, or a locked account (same answer)."""

    code = ErrorCode.INVALID_CREDENTIALS


class RateLimited(DomainError):
    """Too many requests; the caller may try again after ``retry_after`` seconds."""

    code = ErrorCode.RATE_LIMITED

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"retry after {retry_after} s")


class CodeRejected(DomainError):
    """A verification or reset code was not accepted; ``reason`` is a ``CodeOutcome`` value.

    Reasons: ``wrong``, ``expired``, ``too_many_attempts``, ``account_locked``, ``no_code``.
    """

    code = ErrorCode.CODE_REJECTED

    def __init__(self, reason: str, retry_after: int | None = None) -> None:
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(f"code rejected: {reason}")


class RegistrationNotFound(DomainError):
    """No registration attempt has this id (never issued, or over a day old): start again.

    Every registration gets an id whatever its address holds, so this reveals no account."""

    code = ErrorCode.REGISTRATION_NOT_FOUND


class ResetNotFound(DomainError):
    """No reset attempt has this id (never issued, or over a day old): ask for a reset again.

    Every reset request gets an id whatever its address holds, so this reveals no account."""

    code = ErrorCode.RESET_NOT_FOUND


class RefreshRejected(DomainError):
    """A refresh token was not accepted; ``reason`` is a ``RefreshRejection`` value."""

    code = ErrorCode.REFRESH_REJECTED

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"refresh rejected: {reason}")


class ResetTokenRejected(DomainError):
    """A password-reset token was unknown, expired or already used (one answer for all)."""

    code = ErrorCode.RESET_TOKEN_REJECTED


class SignInThrottled(InvalidCredentials):
    """Too many failed sign-ins: the same generic answer as a wrong password, plus a wait."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"retry after {retry_after} s")


class CurrentPasswordWrong(DomainError):
    """A signed-in password change gave the wrong current password (counts as a failed sign-in)."""

    code = ErrorCode.CURRENT_PASSWORD_WRONG


class UnsubscribeLinkInvalid(DomainError):
    """An unsubscribe link whose token does not belong to its user id."""

    code = ErrorCode.UNSUBSCRIBE_LINK_INVALID


class AccountNotVerified(DomainError):
    """The password was right but the address is not verified yet: offer a new code."""

    code = ErrorCode.ACCOUNT_NOT_VERIFIED


class NotAuthenticated(DomainError):
    """No usable access token; ``reason``: missing_token, token_invalid, token_expired,
    unknown_key or token_revoked (the account's token version moved on, or it is gone)."""

    code = ErrorCode.NOT_AUTHENTICATED

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"not authenticated: {reason}")


class ConcurrentUpdate(DomainError):
    """The account kept changing under this request; the caller may simply try again."""

    code = ErrorCode.CONFLICT
