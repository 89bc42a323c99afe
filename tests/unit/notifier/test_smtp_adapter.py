"""SMTP_URL parsing and how aiosmtplib's errors become temporary or permanent failures."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

import aiosmtplib
import pytest
from notifier.adapters.smtp import SmtpSender, SmtpTarget, _failure, parse_smtp_url


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
        aiosmtplib.SMTPSenderRefused(530, "5.7.0 Authentication required", "x"),  # ditto
        ConnectionRefusedError(111, "refused"),
    ],
)
def test_temporary_failures(error: Exception) -> None:
    assert not _failure(error).permanent


def test_data_rejected_with_5xx_is_permanent() -> None:
    assert _failure(aiosmtplib.SMTPDataError(554, "5.7.1 message refused")).permanent


def test_sender_refused_for_another_5xx_is_permanent() -> None:
    assert _failure(aiosmtplib.SMTPSenderRefused(553, "5.1.8 bad sender", "x")).permanent


class _SlowClient:
    """Stands in for a connected aiosmtplib.SMTP; each send waits for the test's go."""

    def __init__(self, gauge: _Gauge) -> None:
        self.gauge = gauge
        self.is_connected = True

    async def send_message(self, message: EmailMessage) -> tuple[dict[str, str], str]:
        self.gauge.now += 1
        self.gauge.peak = max(self.gauge.peak, self.gauge.now)
        await self.gauge.go.wait()
        self.gauge.now -= 1
        return {}, "2.0.0 Ok"


class _Gauge:
    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self.connections = 0
        self.go = asyncio.Event()


async def test_sends_run_concurrently_up_to_the_pool_size_and_reuse_connections() -> None:
    gauge = _Gauge()
    sender = SmtpSender(SmtpTarget("127.0.0.1", 1025), size=3, timeout=1)

    async def connect() -> _SlowClient:
        gauge.connections += 1
        return _SlowClient(gauge)

    sender._connect = connect  # type: ignore[method-assign]
    sends = [asyncio.create_task(sender.send(EmailMessage())) for _ in range(10)]
    for _ in range(100):  # let every task run up to where it blocks
        await asyncio.sleep(0)
    assert gauge.now == 3  # three in flight, seven waiting for a slot
    gauge.go.set()
    receipts = await asyncio.gather(*sends)
    assert gauge.peak == 3 and len(receipts) == 10
    assert gauge.connections == 3  # the pool's connections were reused
