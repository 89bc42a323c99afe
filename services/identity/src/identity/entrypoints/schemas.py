"""Request and response bodies of the HTTP API, with the examples OpenAPI shows."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

Language = Literal["en", "fr"]

EMAIL_EXAMPLE = "ann.lee@example.org"
PASSWORD_EXAMPLE = "Correct-Horse-42!"  # noqa: S105 - documentation example
CODE_EXAMPLE = "492817"


def _examples(*examples: Any) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class RegistrationRequest(BaseModel):
    model_config = _examples(
        {"email": EMAIL_EXAMPLE, "password": PASSWORD_EXAMPLE, "language": "en",
         "newsletter": True}
    )  # fmt: skip
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024, description="checked against the password rules")
    language: Language = "en"
    newsletter: StrictBool = False  # JSON true/false only, as documented (not 0 or "yes")


class CodeRequest(BaseModel):
    """An address to send a (new) code to."""

    model_config = _examples({"email": EMAIL_EXAMPLE})
    email: str = Field(max_length=320)


REGISTRATION_ID_EXAMPLE = "dGhlLXJlZ2lzdHJhdGlvbi1pZC1pcy1vcGFxdWUtYW5kLTQzLWNoYXJz"


class RegistrationRef(BaseModel):
    """A registration attempt, by the id ``POST /v1/registrations`` answered with."""

    model_config = _examples({"registration_id": REGISTRATION_ID_EXAMPLE})
    registration_id: str = Field(min_length=1, max_length=128)


class RegistrationCode(BaseModel):
    model_config = _examples({"registration_id": REGISTRATION_ID_EXAMPLE, "code": CODE_EXAMPLE})
    registration_id: str = Field(min_length=1, max_length=128)
    code: str = Field(max_length=32, description="the six digits from the email")


class PendingRegistration(BaseModel):
    """The same answer whatever the address holds (nothing, an attempt, an account)."""

    model_config = _examples(
        {"registration_id": REGISTRATION_ID_EXAMPLE, "status": "verification_pending",
         "email": EMAIL_EXAMPLE, "code_ttl_seconds": 1800, "resend_after_seconds": 60}
    )  # fmt: skip
    registration_id: str = Field(
        description="opaque; needed to verify this registration and to ask for a new code"
    )
    status: Literal["verification_pending"] = "verification_pending"
    email: str = Field(description="the address in its canonical form")
    code_ttl_seconds: int
    resend_after_seconds: int


RESET_ID_EXAMPLE = "cmVzZXQtaWQtaXMtb3BhcXVlLWFuZC00My1jaGFyYWN0ZXJzLWxvbmctLS0"


class ResetCode(BaseModel):
    """A reset attempt, by the id ``POST /v1/password-resets`` answered with, and its code."""

    model_config = _examples({"reset_id": RESET_ID_EXAMPLE, "code": CODE_EXAMPLE})
    reset_id: str = Field(min_length=1, max_length=128)
    code: str = Field(max_length=32, description="the six digits from the email")


class PendingReset(BaseModel):
    """The same answer whatever the address holds (nothing, an attempt, an account)."""

    model_config = _examples(
        {"reset_id": RESET_ID_EXAMPLE, "status": "reset_pending", "email": EMAIL_EXAMPLE,
         "code_ttl_seconds": 1800, "resend_after_seconds": 60}
    )  # fmt: skip
    reset_id: str = Field(
        description="opaque; needed to trade the code for a reset token. Every request gets "
        "one, whatever the address holds; asking again gives a new one whose code replaces "
        "the previous one"
    )
    status: Literal["reset_pending"] = "reset_pending"
    email: str = Field(description="the address in its canonical form")
    code_ttl_seconds: int
    resend_after_seconds: int


class SignInRequest(BaseModel):
    model_config = _examples({"email": EMAIL_EXAMPLE, "password": PASSWORD_EXAMPLE})
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class RefreshRequest(BaseModel):
    model_config = _examples({"refresh_token": "q1Zk3v...base64url...8Jc"})
    refresh_token: str = Field(max_length=256)


class SessionTokens(BaseModel):
    model_config = _examples(
        {"access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiIsInR5cCI6ImF0K2p3dCJ9...",
         "token_type": "Bearer", "expires_in": 900, "refresh_token": "q1Zk3v...8Jc",
         "refresh_expires_at": "2026-03-01T12:00:00Z"}
    )  # fmt: skip
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name
    expires_in: int = Field(description="seconds the access token stays valid")
    refresh_token: str = Field(description="opaque; rotated on every use")
    refresh_expires_at: datetime


class ResetToken(BaseModel):
    model_config = _examples({"reset_token": "Xy7...base64url...Qk", "expires_in": 600})
    reset_token: str
    expires_in: int


class ResetCompletion(BaseModel):
    model_config = _examples(
        {"reset_token": "Xy7...base64url...Qk", "new_password": PASSWORD_EXAMPLE}
    )
    reset_token: str = Field(max_length=256)
    new_password: str = Field(max_length=1024)


class PasswordChange(BaseModel):
    model_config = _examples(
        {"current_password": PASSWORD_EXAMPLE, "new_password": "Battery-Staple-97?"}
    )
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024, description="checked against the password rules")


class PasswordChanged(BaseModel):
    model_config = _examples({"status": "password_changed"})
    status: Literal["password_changed"] = "password_changed"


class Unsubscribed(BaseModel):
    model_config = _examples({"status": "unsubscribed"})
    status: Literal["unsubscribed"] = "unsubscribed"


class Profile(BaseModel):
    model_config = _examples(
        {"user_id": "5f0c2a8e9b1d4c7fa3e6b2d1c0a9f8e7", "email": EMAIL_EXAMPLE, "language": "en",
         "newsletter": True, "email_verified": True, "roles": ["user"],
         "created_at": "2026-01-05T09:30:00Z", "verified_at": "2026-01-05T09:34:12Z"}
    )  # fmt: skip
    user_id: str
    email: str
    language: Language
    newsletter: bool
    email_verified: bool
    roles: list[str]
    created_at: datetime
    verified_at: datetime | None


class ProfileChange(BaseModel):
    model_config = _examples({"language": "fr"})
    language: Language
