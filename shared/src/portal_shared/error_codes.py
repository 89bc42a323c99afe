"""The one list of error codes: every problem ``code`` any service answers with.

Pure (no FastAPI), so domain errors name their code from here: ``code = ErrorCode.SLUG_TAKEN``.
A code never changes once published: pages translate it and clients branch on it. Adding an
error means adding its code here with what it means (``ERROR_CODES``); ``docs/ERRORS.md`` is
generated from this list and a test finds every code the services' sources use in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class ErrorCode(StrEnum):
    """Every problem ``code`` the platform answers with (see ``ERROR_CODES``)."""

    # Any service, from the HTTP layer
    BAD_REQUEST = "bad_request"
    INVALID_CHARACTERS = "invalid_characters"
    VALIDATION_ERROR = "validation_error"
    BAD_CURSOR = "bad_cursor"
    UNAUTHENTICATED = "unauthenticated"
    TOKEN_INVALID = "token_invalid"
    TOKEN_EXPIRED = "token_expired"
    TOKEN_REVOKED = "token_revoked"
    UNKNOWN_KEY = "unknown_key"
    NOT_EDITOR = "not_editor"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    CONFLICT = "conflict"
    GONE = "gone"
    BODY_TOO_LARGE = "body_too_large"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    RANGE_NOT_SATISFIABLE = "range_not_satisfiable"
    TOO_MANY_REQUESTS = "too_many_requests"
    INTERNAL_ERROR = "internal_error"
    SERVICE_UNAVAILABLE = "service_unavailable"
    DATABASE_UNAVAILABLE = "database_unavailable"
    KEYS_UNAVAILABLE = "keys_unavailable"
    NOT_READY = "not_ready"
    # identity
    INVALID_EMAIL = "invalid_email"
    EMAIL_NOT_SUPPORTED = "email_not_supported"
    PASSWORD_REJECTED = "password_rejected"
    INVALID_CREDENTIALS = "invalid_credentials"
    RATE_LIMITED = "rate_limited"
    CODE_REJECTED = "code_rejected"
    REGISTRATION_NOT_FOUND = "registration_not_found"
    RESET_NOT_FOUND = "reset_not_found"
    REFRESH_REJECTED = "refresh_rejected"
    RESET_TOKEN_REJECTED = "reset_token_rejected"
    CURRENT_PASSWORD_WRONG = "current_password_wrong"
    UNSUBSCRIBE_LINK_INVALID = "unsubscribe_link_invalid"
    ACCOUNT_NOT_VERIFIED = "account_not_verified"
    NOT_AUTHENTICATED = "not_authenticated"
    # notifier
    DELIVERY_NOT_FOUND = "delivery_not_found"
    # catalog
    VIDEO_NOT_FOUND = "video_not_found"
    SLUG_TAKEN = "slug_taken"
    CONCURRENT_CHANGE = "concurrent_change"
    RENDITION_NOT_FOUND = "rendition_not_found"
    RENDITION_CHANGED = "rendition_changed"
    MEDIA_MISSING = "media_missing"
    DOWNLOAD_NOT_FOUND = "download_not_found"
    DOWNLOAD_NOT_STARTED = "download_not_started"
    DOWNLOAD_QUOTA_EXCEEDED = "download_quota_exceeded"
    REISSUE_LIMIT_REACHED = "reissue_limit_reached"
    NOT_VERIFIED = "not_verified"
    ACCOUNT_DELETED = "account_deleted"
    LINK_MALFORMED = "link_malformed"
    LINK_UNKNOWN_KEY = "link_unknown_key"
    LINK_TAMPERED = "link_tampered"
    LINK_EXPIRED = "link_expired"
    LINK_WRONG_USER = "link_wrong_user"
    # transcript
    QUERY_EMPTY = "query_empty"
    TRANSCRIPT_NOT_FOUND = "transcript_not_found"
    REVISION_NOT_FOUND = "revision_not_found"
    SPEAKER_NOT_FOUND = "speaker_not_found"
    TRANSCRIPT_UNTIMED = "transcript_untimed"
    TRANSCRIPT_EMPTY = "transcript_empty"
    TRANSCRIPT_MALFORMED = "transcript_malformed"
    TRANSCRIPT_NOT_TEXT = "transcript_not_text"
    TRANSCRIPT_TOO_LARGE = "transcript_too_large"
    UNSUPPORTED_CONTENT_TYPE = "unsupported_content_type"
    LANGUAGE_UNSUPPORTED = "language_unsupported"
    MALFORMED_MULTIPART = "malformed_multipart"
    FILE_MISSING = "file_missing"


ERROR_CODES: Mapping[ErrorCode, str] = {
    ErrorCode.BAD_REQUEST: "the request cannot be read (a body that is not UTF-8 JSON...)",
    ErrorCode.INVALID_CHARACTERS: "the URL holds a NUL character",
    ErrorCode.VALIDATION_ERROR: "fields are missing or malformed; `errors` lists them",
    ErrorCode.BAD_CURSOR: "a `cursor` that is not the `next_cursor` of this list",
    ErrorCode.UNAUTHENTICATED: "this needs an access token and none was sent",
    ErrorCode.TOKEN_INVALID: "the access token is not valid",
    ErrorCode.TOKEN_EXPIRED: "the access token has expired; refresh it",
    ErrorCode.TOKEN_REVOKED: "the access token was revoked; sign in again",
    ErrorCode.UNKNOWN_KEY: "the access token is signed with a key the service does not know",
    ErrorCode.NOT_EDITOR: "only editors may do this",
    ErrorCode.FORBIDDEN: "not allowed",
    ErrorCode.NOT_FOUND: "no such path",
    ErrorCode.METHOD_NOT_ALLOWED: "no such method here; `Allow` lists the methods of the path",
    ErrorCode.NOT_ACCEPTABLE: "no representation in the media types the client accepts",
    ErrorCode.CONFLICT: "the resource changed meanwhile; try again",
    ErrorCode.GONE: "the resource existed and is no more",
    ErrorCode.BODY_TOO_LARGE: "the request body is over the service's limit (`max_bytes`)",
    ErrorCode.PAYLOAD_TOO_LARGE: "the request body is too large",
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: "the body's media type is not accepted",
    ErrorCode.RANGE_NOT_SATISFIABLE: "the `Range` asked for lies outside the file",
    ErrorCode.TOO_MANY_REQUESTS: "too many requests; `Retry-After` says when to try again",
    ErrorCode.INTERNAL_ERROR: "a bug of ours; the request id is in the logs",
    ErrorCode.SERVICE_UNAVAILABLE: "the service cannot answer now",
    ErrorCode.DATABASE_UNAVAILABLE: "the database is away; `Retry-After` says when to try again",
    ErrorCode.KEYS_UNAVAILABLE: "the token signing keys cannot be fetched now",
    ErrorCode.NOT_READY: "a readiness check fails (`/readyz`)",
    ErrorCode.INVALID_EMAIL: "not a valid email address",
    ErrorCode.EMAIL_NOT_SUPPORTED: "letters beyond ASCII before the @ cannot be mailed yet",
    ErrorCode.PASSWORD_REJECTED: "the password breaks rules; `violations` lists them",
    ErrorCode.INVALID_CREDENTIALS: "wrong email address or password (one answer for every cause)",
    ErrorCode.RATE_LIMITED: "too many requests from this client or for this address",
    ErrorCode.CODE_REJECTED: "a verification or reset code was not accepted; `reason` says why",
    ErrorCode.REGISTRATION_NOT_FOUND: "the registration is over or was never made; register again",
    ErrorCode.RESET_NOT_FOUND: "the password reset is over or was never asked for; ask again",
    ErrorCode.REFRESH_REJECTED: "the refresh token was not accepted; sign in again",
    ErrorCode.RESET_TOKEN_REJECTED: "the password reset link is no longer valid",
    ErrorCode.CURRENT_PASSWORD_WRONG: "the current password given is not right",
    ErrorCode.UNSUBSCRIBE_LINK_INVALID: "the unsubscribe link is not valid",
    ErrorCode.ACCOUNT_NOT_VERIFIED: "the email address is not verified yet",
    ErrorCode.NOT_AUTHENTICATED: "no usable access token; `reason` says why",
    ErrorCode.DELIVERY_NOT_FOUND: "the notifier has no email for this event",
    ErrorCode.VIDEO_NOT_FOUND: "no (published) video has this id or slug",
    ErrorCode.SLUG_TAKEN: "another video has this slug",
    ErrorCode.CONCURRENT_CHANGE: "the video changed since it was read (`If-Match`)",
    ErrorCode.RENDITION_NOT_FOUND: "the video has no such rendition",
    ErrorCode.RENDITION_CHANGED: "the rendition's file changed since the link was made",
    ErrorCode.MEDIA_MISSING: "the rendition's file is not in storage",
    ErrorCode.DOWNLOAD_NOT_FOUND: "no download link has this id",
    ErrorCode.DOWNLOAD_NOT_STARTED: "the link was never used, so there is nothing to reissue",
    ErrorCode.DOWNLOAD_QUOTA_EXCEEDED: "the user's download quota is spent for now",
    ErrorCode.REISSUE_LIMIT_REACHED: "this link was reissued as often as it may be",
    ErrorCode.NOT_VERIFIED: "only verified accounts may download; confirm the email address",
    ErrorCode.ACCOUNT_DELETED: "the account has been deleted",
    ErrorCode.LINK_MALFORMED: "the download link is incomplete",
    ErrorCode.LINK_UNKNOWN_KEY: "the download link is signed with a key no longer accepted",
    ErrorCode.LINK_TAMPERED: "the download link's signature does not match",
    ErrorCode.LINK_EXPIRED: "the download link has expired; ask for a new one",
    ErrorCode.LINK_WRONG_USER: "the download link was issued to another account",
    ErrorCode.QUERY_EMPTY: "the search query has no words",
    ErrorCode.TRANSCRIPT_NOT_FOUND: "the video has no transcript",
    ErrorCode.REVISION_NOT_FOUND: "the transcript has no such revision",
    ErrorCode.SPEAKER_NOT_FOUND: "the transcript has no such speaker",
    ErrorCode.TRANSCRIPT_UNTIMED: "the transcript has no timings, so it has no such export",
    ErrorCode.TRANSCRIPT_EMPTY: "the submitted transcript has no text",
    ErrorCode.TRANSCRIPT_MALFORMED: "the submitted transcript cannot be read in its format",
    ErrorCode.TRANSCRIPT_NOT_TEXT: "the submitted file is not UTF-8 text",
    ErrorCode.TRANSCRIPT_TOO_LARGE: "the submitted transcript is over the size limit",
    ErrorCode.UNSUPPORTED_CONTENT_TYPE: "the submission's media type is not a transcript format",
    ErrorCode.LANGUAGE_UNSUPPORTED: "the transcript's language is not one the service reads",
    ErrorCode.MALFORMED_MULTIPART: "the multipart form cannot be read",
    ErrorCode.FILE_MISSING: "the multipart form has no `file` part",
}

# The code of a bare HTTP status (FastAPI's own 404, 405...).
STATUS_CODES: Mapping[int, ErrorCode] = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    406: ErrorCode.NOT_ACCEPTABLE,
    409: ErrorCode.CONFLICT,
    410: ErrorCode.GONE,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    416: ErrorCode.RANGE_NOT_SATISFIABLE,
    422: ErrorCode.VALIDATION_ERROR,
    429: ErrorCode.TOO_MANY_REQUESTS,
    500: ErrorCode.INTERNAL_ERROR,
    503: ErrorCode.SERVICE_UNAVAILABLE,
}


def code_of_status(status: int) -> str:
    return STATUS_CODES.get(status, "error")
