"""Turn an account event and its unsealed private part into a complete email.

Pure: no clock, no network. The caller passes the send time ``now``, the event id and the
sender identity; the result is an ``EmailMessage`` (multipart/alternative: plain text, then
HTML, both UTF-8) ready for SMTP. Failures are explicit:

- ``RenderError``: the input cannot make a valid email (unknown kind, missing or malformed
  code, bad address, a header value with a line break...). Retrying will not help.
- ``CodeExpired``: the code expired before the send time; the service records
  ``skipped_expired`` and sends nothing. Call ``is_expired`` first to avoid rendering at all.

An unsupported language falls back to English rather than failing (see ``languages``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from portal_shared.events.base import Event

from notifier.domain import headers
from notifier.domain.errors import RenderError
from notifier.domain.expiry import expiry_sentence
from notifier.domain.kinds import CODE_KINDS, NEWSLETTER_KINDS, MailKind, kind_for_event
from notifier.domain.languages import resolve_language
from notifier.domain.mail_identity import MailIdentity
from notifier.domain.templating import render_parts

# Codes are short and alphanumeric; anything else (spaces, markup, a line break) is a bug.
_CODE = re.compile(r"[0-9A-Za-z]{4,16}")


def render_email(
    kind_or_event: MailKind | str | Event,
    private: Mapping[str, Any],
    language: str | None,
    now: datetime,
    identity: MailIdentity,
    event_id: str,
    *,
    code_expires_at: datetime | None = None,
) -> EmailMessage:
    """Render the email for one event (or an explicit kind) in ``language`` at ``now``.

    ``private`` is the unsealed part ``{"user_id", "email", "code"?}``. Given an event, the
    kind and the code's expiry come from it, and ``private["user_id"]`` must name the
    event's user. Given a kind, code kinds need ``code_expires_at``.
    """
    kind, expires_at = _kind_and_expiry(kind_or_event, private, code_expires_at)
    language = resolve_language(language)
    if now.tzinfo is None or now.utcoffset() is None:
        raise RenderError("now must carry a timezone")
    recipient = headers.mailbox(_text(private, "email"))
    context = _template_context(kind, private, language, now, identity, expires_at)
    # A second registration of a pending address: its email says so (identity sets it).
    context["another_registration"] = getattr(kind_or_event, "another_registration", False)
    parts = render_parts(kind, language, context)

    message = EmailMessage(policy=headers.MESSAGE_POLICY)
    for name, value in _header_values(kind, parts.subject, language, now, identity, event_id):
        message[name] = value
    message["To"] = recipient
    if kind in NEWSLETTER_KINDS:
        unsubscribe = headers.list_unsubscribe_headers(
            url=context["one_click_url"], reply_to=headers.mailbox(identity.reply_to)
        )
        for name, value in unsubscribe.items():
            message[name] = value
    message.set_content(parts.text, subtype="plain", charset="utf-8")
    message.add_alternative(parts.html, subtype="html", charset="utf-8")
    # Set after the body: making the message multipart moves Content-* headers into the
    # first part, and this one describes the whole message.
    message["Content-Language"] = language
    for part in message.iter_parts():
        del part["MIME-Version"]  # add_alternative copies it into the part; only the top needs it
    return message


def _kind_and_expiry(
    kind_or_event: MailKind | str | Event,
    private: Mapping[str, Any],
    code_expires_at: datetime | None,
) -> tuple[MailKind, datetime | None]:
    if isinstance(kind_or_event, Event):
        event = kind_or_event
        try:
            kind = kind_for_event(event)
        except KeyError:
            raise RenderError(f"no email is defined for {event.event_name()}") from None
        if kind is None:
            raise RenderError(f"{event.event_name()} needs no email")
        if _text(private, "user_id") != getattr(event, "user_id", None):
            raise RenderError("the private part does not belong to the event's user")
        return kind, code_expires_at or getattr(event, "code_expires_at", None)
    try:
        return MailKind(kind_or_event), code_expires_at
    except ValueError:
        raise RenderError(f"unknown email kind {kind_or_event!r}") from None


def _template_context(
    kind: MailKind,
    private: Mapping[str, Any],
    language: str,
    now: datetime,
    identity: MailIdentity,
    expires_at: datetime | None,
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "lang": language,
        "email": _text(private, "email"),
        "site_url": identity.site_url,
    }
    if kind in CODE_KINDS:
        code = private.get("code")
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            raise RenderError(f"{kind} needs a code of 4 to 16 letters or digits")
        if expires_at is None:
            raise RenderError(f"{kind} needs the code's expiry time")
        context["code"] = code
        context["expiry_sentence"] = expiry_sentence(expires_at, now, language)
    if kind in NEWSLETTER_KINDS:
        token = private.get("unsubscribe_token")
        url = headers.unsubscribe_url(
            identity.unsubscribe_url_template,
            _text(private, "user_id"),
            token if isinstance(token, str) else None,
        )
        context["one_click_url"] = url
        # Without a working link the email points at the site, where the signed-in user can
        # unsubscribe; the mailto header still works.
        context["unsubscribe_url"] = url or identity.site_url
    return context


def _header_values(
    kind: MailKind,
    subject: str,
    language: str,
    now: datetime,
    identity: MailIdentity,
    event_id: str,
) -> list[tuple[str, str | Address]]:
    return [
        ("Subject", headers.reject_line_breaks(subject, what="subject")),
        ("From", headers.mailbox(identity.from_address, display_name=identity.from_name)),
        ("Reply-To", headers.mailbox(identity.reply_to)),
        ("Date", format_datetime(now)),
        ("Message-ID", headers.message_id(event_id, identity.message_id_domain)),
        # RFC 3834: automatic replies (vacation notices) must not answer this email.
        ("Auto-Submitted", "auto-generated"),
        ("X-Auto-Response-Suppress", "All"),
        ("X-Portal-Event-Id", headers.canonical_event_id(event_id)),
        ("X-Portal-Mail-Kind", kind.value),
    ]


def _text(private: Mapping[str, Any], key: str) -> str:
    value = private.get(key)
    if not isinstance(value, str) or not value:
        raise RenderError(f"the private part has no {key}")
    return value
