"""SMTP_URL parsing and how aiosmtplib's errors become temporary or permanent failures."""

from __future__ import annotations

import aiosmtplib
import pytest
from notifier.adapters.smtp import SmtpTarget, _failure, parse_smtp_url


def test_plain_url_with_defaults() -> None:
    assert parse_smtp_url("smtp://127.0.0.1:1025") == SmtpTarget("127.0.0.1", 1025)
    assert parse_smtp_url("smtp://mail.example.org").port == 25


def test_credentials_are_decoded_and_never_shown() -> None:
    target = parse_smtp_url("smtp://mailer%40example.org:p%40ss%3Aword@relay.example.org:587")
    assert (target.username, target.password) == ("mailer@example.org", "p@ss:word")
    assert "p@ss" not in repr(target)


def test_smtps_is_implicit_tls_on_465() -> None:
    target = parse_smtp_url("smtps://relay.example.org")
    assert (target.use_tls, target.start_tls, target.port) == (True, False, 465)


@pytest.mark.parametrize(
    ("url", "setting", "expected"),
    [
        ("smtp://h:587", None, None),  # opportunistic
        ("smtp://h:587?starttls=true", None, True),
        ("smtp://h:587?starttls=false", None, False),
        ("smtp://h:587?starttls=false", True, True),  # the setting wins
        ("smtp://h:587", False, False),
    ],
)
def test_starttls_from_url_or_setting(url: str, setting: bool | None, expected: bool) -> None:
    assert parse_smtp_url(url, starttls=setting).start_tls is expected


def test_password_file_wins_over_url_password() -> None:
    assert parse_smtp_url("smtp://u:old@h:25", password="new").password == "new"


@pytest.mark.parametrize(
    "url", ["http://h:25", "smtp://", "smtp://h?starttls=maybe", "smtps://h?starttls=true"]
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        parse_smtp_url(url)


def test_refused_recipient_5xx_is_permanent_and_address_free() -> None:
    refused = aiosmtplib.SMTPRecipientRefused(550, "5.1.1 <jane@example.org> unknown", "x")
    failure = _failure(aiosmtplib.SMTPRecipientsRefused([refused]))
    assert failure.permanent and failure.code == 550
    assert "jane@" not in failure.reason


@pytest.mark.parametrize(
    "error",
    [
        aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(451, "later", "x")]),
        aiosmtplib.SMTPDataError(452, "4.3.1 insufficient storage"),
        aiosmtplib.SMTPConnectError("connection refused"),
        aiosmtplib.SMTPReadTimeoutError("timed out"),
        aiosmtplib.SMTPServerDisconnected("gone"),
        aiosmtplib.SMTPAuthenticationError(535, "bad credentials"),  # our account, not the email
        ConnectionRefusedError(111, "refused"),
    ],
)
def test_temporary_failures(error: Exception) -> None:
    assert not _failure(error).permanent


def test_data_rejected_with_5xx_is_permanent() -> None:
    assert _failure(aiosmtplib.SMTPDataError(554, "5.7.1 message refused")).permanent
