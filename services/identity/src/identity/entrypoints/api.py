"""The HTTP API of the identity service: its routers (one per noun) and their tags."""

from __future__ import annotations

from identity.entrypoints.routers import (
    account_pages,
    me,
    newsletter,
    password_resets,
    registration_pages,
    registrations,
    session_pages,
    sessions,
    well_known,
)

ROUTERS = [
    registrations.router,
    sessions.router,
    password_resets.router,
    me.router,
    newsletter.router,
    well_known.router,
    # the account pages (HTML, not in the OpenAPI document)
    account_pages.router,
    session_pages.router,
    registration_pages.router,
]

TITLE = "Identity"
DESCRIPTION = """Accounts of the multimedia portal: registration with an emailed six-digit code,
sign-in with short-lived access tokens (JWT, EdDSA; public keys at `/.well-known/jwks.json`) and
rotating refresh tokens, password reset, newsletter choice, account deletion.

Errors are RFC 9457 problem documents with a stable `code`. Answers never reveal whether an
address has an account."""

OPENAPI_TAGS = [
    {"name": "registrations", "description": "Create an account and verify its address"},
    {"name": "sessions", "description": "Sign in, refresh, sign out"},
    {"name": "password resets", "description": "Forgotten password"},
    {"name": "me", "description": "The signed-in user's own account"},
    {"name": "newsletter", "description": "Unsubscribe links from emails (no sign-in)"},
    {"name": "keys", "description": "Public keys for verifying access tokens"},
]
