"""The rendered email as a receiver sees it: structure, headers, and inert hostile values."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtplib.email import flatten_message
from hypothesis import given, settings
from hypothesis import strategies as st
from notifier.domain.errors import CodeExpired, RenderError
from notifier.domain.kinds import CODE_KINDS, MailKind
from notifier.domain.mail_identity import MailIdentity
from notifier.domain.rendering import render_email
from portal_shared.events import identity as events

NOW = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
EXPIRES = NOW + timedelta(minutes=30)
EVENT_ID = "0f8c6a4e-7d8b-4c1e-9a61-2f3b4c5d6e7f"
PRIVATE = {"user_id": "usr_7Qm2", "email": "jane.doe@example.org", "code": "483920"}
IDENTITY = MailIdentity(
    from_address="no-reply@multimedia.example.org",
    from_name="NATO Multimedia",
    reply_to="support@multimedia.example.org",
    message_id_domain="multimedia.example.org",
    site_url="https://multimedia.example.org/",
    unsubscribe_url_template="https://multimedia.example.org/newsletter/unsubscribe?user={user_id}&token={token}",
)


def render(
    kind: MailKind | str = MailKind.VERIFY_EMAIL,
    *,
    private: dict[str, Any] | None = None,
    language: str | None = "en",
    identity: MailIdentity = IDENTITY,
    event_id: str = EVENT_ID,
    now: datetime = NOW,
) -> EmailMessage:
    return render_email(
        kind,
        PRIVATE if private is None else private,
        language,
        now,
        identity,
        event_id,
        code_expires_at=EXPIRES,
    )


def received(message: EmailMessage) -> EmailMessage:
    """What the receiving side parses from the bytes we would hand to SMTP."""
    parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
    assert isinstance(parsed, EmailMessage)
    return parsed


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    return part.get_content()


@pytest.mark.parametrize("kind", list(MailKind))
@pytest.mark.parametrize("language", ["en", "fr"])
def test_multipart_alternative_of_utf8_text_then_html(kind: MailKind, language: str) -> None:
    message = received(render(kind, language=language))
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in parts)
    assert message["Content-Language"] == language
    assert message["X-Portal-Mail-Kind"] == kind.value


def test_headers_identify_sender_recipient_and_event() -> None:
    message = received(render())
    assert message["To"].addresses[0].addr_spec == "jane.doe@example.org"
    assert len(message["To"].addresses) == 1
    sender = message["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == (
        "NATO Multimedia",
        "no-reply@multimedia.example.org",
    )
    assert message["Reply-To"].addresses[0].addr_spec == "support@multimedia.example.org"
    assert message["Subject"] == "Your NATO Multimedia verification code"
    assert message["Date"].datetime == NOW
    assert message["Message-ID"] == f"<{EVENT_ID}@multimedia.example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Portal-Event-Id"] == EVENT_ID
    assert "List-Unsubscribe" not in message


def test_message_id_is_stable_across_resends_and_differs_per_event() -> None:
    first, again = render(now=NOW), render(now=NOW + timedelta(minutes=5))
    other = render(event_id="1b2c3d4e-0000-4000-8000-000000000001")
    assert first["Message-ID"] == again["Message-ID"]
    assert first["Message-ID"] != other["Message-ID"]


def test_newsletter_confirmation_offers_one_click_unsubscribe() -> None:
    private = {
        **PRIVATE,
        "user_id": "usr 7&next=https://evil.example",
        "unsubscribe_token": "t/k=1&x",
    }
    message = received(render(MailKind.NEWSLETTER_SUBSCRIBED, private=private))
    url = (
        "https://multimedia.example.org/newsletter/unsubscribe"
        "?user=usr%207%26next%3Dhttps%3A%2F%2Fevil.example&token=t%2Fk%3D1%26x"
    )
    assert message["List-Unsubscribe"] == (
        f"<{url}>, <mailto:support@multimedia.example.org?subject=unsubscribe>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in body(message, "plain")
    assert url.replace("&", "&amp;") in body(message, "html")


@pytest.mark.parametrize("utf8", [False, True])
def test_the_unsubscribe_url_reaches_the_wire_as_typed(utf8: bool) -> None:
    # Flattened exactly as the SMTP client sends it: a URL longer than a line must not become
    # RFC 2047 encoded words, which mail clients do not decode in List-Unsubscribe.
    private = {
        **PRIVATE,
        "user_id": "ba4ac732069242e7a22631234567890a",
        "unsubscribe_token": "T" * 43,
    }
    wire = flatten_message(render(MailKind.NEWSLETTER_SUBSCRIBED, private=private), utf8=utf8)
    header = wire.split(b"\r\n\r\n", 1)[0].decode()
    url = (
        "https://multimedia.example.org/newsletter/unsubscribe"
        f"?user=ba4ac732069242e7a22631234567890a&token={'T' * 43}"
    )
    assert f"List-Unsubscribe: <{url}>,\r\n <mailto:" in header
    assert "=?" not in header.split("List-Unsubscribe:")[1].split("\r\nList-Unsubscribe-Post")[0]


def test_without_a_token_only_mailto_is_offered_and_the_body_links_the_site() -> None:
    message = received(render(MailKind.NEWSLETTER_SUBSCRIBED, private=PRIVATE))
    assert message["List-Unsubscribe"] == (
        "<mailto:support@multimedia.example.org?subject=unsubscribe>"
    )
    assert "List-Unsubscribe-Post" not in message
    assert "unsubscribe?user" not in body(message, "plain")
    assert "https://multimedia.example.org/" in body(message, "plain")


def test_a_template_without_token_placeholder_is_refused() -> None:
    with pytest.raises(ValueError, match="token"):
        replace(
            IDENTITY, unsubscribe_url_template="https://multimedia.example.org/u?user={user_id}"
        )


def test_unsubscribe_confirmation_has_no_unsubscribe_header() -> None:
    assert "List-Unsubscribe" not in render(MailKind.NEWSLETTER_UNSUBSCRIBED)


@pytest.mark.parametrize("kind", sorted(CODE_KINDS))
@pytest.mark.parametrize("language", ["en", "fr"])
def test_code_stands_alone_and_copies_exactly(kind: MailKind, language: str) -> None:
    message = received(render(kind, language=language))
    assert "483920" in body(message, "plain").splitlines()
    html = body(message, "html")
    assert 'user-select:all;">483920</td>' in html
    assert "monospace" in html and "letter-spacing" in html


def test_hostile_address_is_escaped_in_html_and_kept_as_typed_in_text() -> None:
    private = {**PRIVATE, "email": '"<script>alert(1)</script>"@example.org'}
    message = received(render(private=private))
    assert "<script>" not in body(message, "html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body(message, "html")
    assert '"<script>alert(1)</script>"@example.org' in body(message, "plain")
    assert message["To"].addresses[0].addr_spec == private["email"]


@pytest.mark.parametrize(
    "email",
    [
        "jane@example.org\r\nBcc: x@evil.example",
        "jane@example.org\nBcc: x@evil.example",
        "jane@example.org, x@evil.example",
        "Jane <jane@example.org>",
        "jane@example.org (comment)",
        "not-an-address",
        "@example.org",
        "",
    ],
)
def test_recipient_that_is_not_one_plain_mailbox_is_refused(email: str) -> None:
    with pytest.raises(RenderError):
        render(private={**PRIVATE, "email": email})


def test_display_name_with_specials_stays_one_encoded_name() -> None:
    identity = dataclasses.replace(IDENTITY, from_name='Évil "<b>", Bcc: x@evil.example')
    message = received(render(identity=identity))
    senders = message["From"].addresses
    assert len(senders) == 1
    assert senders[0].display_name == identity.from_name
    assert "Bcc" not in message


@pytest.mark.parametrize(
    "field", ["from_name", "from_address", "reply_to", "message_id_domain", "site_url"]
)
def test_settings_with_a_line_break_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match=r"line break|mailbox|host name|https"):
        dataclasses.replace(IDENTITY, **{field: getattr(IDENTITY, field) + "\r\nBcc: x@evil"})


def test_unsubscribe_template_must_be_https_with_a_user_placeholder() -> None:
    with pytest.raises(ValueError, match="user_id"):
        dataclasses.replace(IDENTITY, unsubscribe_url_template="https://example.org/unsubscribe")
    with pytest.raises(ValueError, match="https"):
        dataclasses.replace(IDENTITY, unsubscribe_url_template="http://example.org/{user_id}")


def test_user_id_with_a_line_break_cannot_reach_a_header() -> None:
    with pytest.raises(RenderError):
        render(MailKind.NEWSLETTER_SUBSCRIBED, private={**PRIVATE, "user_id": "u\r\nBcc: x@e"})


@pytest.mark.parametrize("code", [None, "", "12 34", "1234\n", "<b>1</b>", "12", "x" * 17])
def test_missing_or_malformed_code_is_refused(code: str | None) -> None:
    private = {key: value for key, value in PRIVATE.items() if key != "code"}
    if code is not None:
        private["code"] = code
    with pytest.raises(RenderError, match="code"):
        render(private=private)


def test_code_kind_needs_an_expiry_time() -> None:
    with pytest.raises(RenderError, match="expiry"):
        render_email(MailKind.RESET_PASSWORD, PRIVATE, "en", NOW, IDENTITY, EVENT_ID)


def test_expired_code_is_not_rendered() -> None:
    with pytest.raises(CodeExpired):
        render(now=EXPIRES)


def test_non_code_kind_ignores_expiry_and_code() -> None:
    private = {"user_id": "usr_7Qm2", "email": "jane.doe@example.org"}
    message = render(MailKind.PASSWORD_CHANGED, private=private, now=EXPIRES + timedelta(days=1))
    assert message["Subject"] == "Your NATO Multimedia password has been updated"


@pytest.mark.parametrize("language", ["de", "", None, "EN-gb"])
def test_unknown_language_falls_back_to_english(language: str | None) -> None:
    message = render(language=language)
    assert message["Content-Language"] == "en"
    assert "This code will expire in 30 minutes." in body(message, "plain")


def test_french_uses_the_computed_french_sentence() -> None:
    message = render(language="fr", now=EXPIRES - timedelta(seconds=61))
    assert "Ce code expirera dans 1 minute." in body(message, "plain")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "goodbye"}, "unknown email kind"),
        ({"event_id": "not-a-uuid"}, "UUID"),
        ({"now": NOW.replace(tzinfo=None)}, "timezone"),
        ({"private": {"email": "jane.doe@example.org", "code": "483920"}}, None),
    ],
)
def test_invalid_input_raises_render_error(kwargs: dict[str, Any], match: str | None) -> None:
    kind = kwargs.pop("kind", MailKind.NEWSLETTER_SUBSCRIBED)
    with pytest.raises(RenderError, match=match):
        render(kind, **kwargs)


def test_rendering_from_the_event_matches_rendering_the_kind() -> None:
    event = events.UserRegistered(
        user_id="usr_7Qm2",
        account_version=1,
        language="fr",
        newsletter=True,
        registered_at=NOW,
        code_expires_at=EXPIRES,
        sealed="opaque",
    )
    from_event = render_email(event, PRIVATE, event.language, NOW, IDENTITY, EVENT_ID)
    from_kind = render(MailKind.VERIFY_EMAIL, language="fr")
    assert body(from_event, "plain") == body(from_kind, "plain")
    assert body(from_event, "html") == body(from_kind, "html")


def test_event_needing_no_email_or_of_another_user_is_refused() -> None:
    deleted = events.UserDeleted(user_id="usr_7Qm2", account_version=4, deleted_at=NOW)
    with pytest.raises(RenderError, match="needs no email"):
        render_email(deleted, PRIVATE, "en", NOW, IDENTITY, EVENT_ID)
    changed = events.PasswordChanged(
        user_id="usr_other",
        account_version=2,
        language="en",
        changed_at=NOW,
        reason="change",
        sealed="opaque",
    )
    with pytest.raises(RenderError, match="user"):
        render_email(changed, PRIVATE, "en", NOW, IDENTITY, EVENT_ID)


@settings(max_examples=100, deadline=None)
@given(code=st.text(alphabet="0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", min_size=4, max_size=16))
def test_any_valid_code_survives_the_round_trip(code: str) -> None:
    message = received(render(private={**PRIVATE, "code": code}))
    assert code in body(message, "plain").splitlines()
    assert f">{code}</td>" in body(message, "html")


@settings(max_examples=100, deadline=None)
@given(name=st.text(max_size=40))
def test_any_display_name_is_refused_or_stays_one_sender(name: str) -> None:
    try:
        identity = dataclasses.replace(IDENTITY, from_name=name)
    except ValueError:
        return
    message = received(render(identity=identity))
    senders = message["From"].addresses
    assert len(senders) == 1
    assert senders[0].addr_spec == IDENTITY.from_address
    assert set(message.keys()) <= {
        "Subject",
        "From",
        "Reply-To",
        "Date",
        "Message-ID",
        "Auto-Submitted",
        "X-Auto-Response-Suppress",
        "X-Portal-Event-Id",
        "X-Portal-Mail-Kind",
        "To",
        "MIME-Version",
        "Content-Type",
        "Content-Language",
    }
