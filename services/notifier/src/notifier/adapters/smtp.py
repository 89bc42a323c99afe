"""Sending over SMTP with aiosmtplib: a small pool of kept-open connections.

Connections are reused because a handshake (greeting, EHLO, STARTTLS, AUTH) costs several
round trips per email; the pool's size is the send concurrency. A connection that failed in
any way is closed and replaced, so a half-finished SMTP dialogue is never reused.

Failures come out as ``SmtpFailure`` with ``permanent`` set only for a 5xx answer to the
message itself (MAIL FROM, RCPT TO, DATA). Connection refused, timeouts, 4xx, greeting, EHLO
or AUTH errors, and a 530 to MAIL FROM (authentication or STARTTLS required) are temporary:
they are about the server or our account, not this email, and parking every email while a
relay is misconfigured would lose them all.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from notifier.domain.delivery import is_permanent_smtp_code, redact_addresses

_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
_AUTH_REQUIRED = 530  # RFC 4954 / RFC 3207: authenticate (or STARTTLS) first
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    hostname: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    start_tls: bool | None = None  # None: upgrade when the server offers STARTTLS

    def __repr__(self) -> str:  # never show the password
        return f"SmtpTarget({self.hostname}:{self.port}, tls={self.use_tls}, user={self.username})"


@dataclass(frozen=True, slots=True)
class SmtpReceipt:
    """The server's answer to DATA: it took responsibility for the message."""

    reply: str


class SmtpFailure(Exception):
    def __init__(self, reason: str, *, permanent: bool, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.code = code


def parse_smtp_url(
    url: str, *, starttls: bool | None = None, password: str | None = None
) -> SmtpTarget:
    """``smtp://[user[:pass]@]host[:port][?starttls=true|false]`` or ``smtps://...``.

    ``starttls`` (the NOTIFIER_SMTP_STARTTLS setting) wins over the URL's parameter; a
    ``password`` (from a secret file) wins over the one in the URL.
    """
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError("SMTP_URL must look like smtp://host:port or smtps://host:port")
    use_tls = parts.scheme == "smtps"
    start_tls = starttls if starttls is not None else _flag(parse_qs(parts.query), "starttls")
    if use_tls and start_tls:
        raise ValueError("smtps:// is already TLS; STARTTLS cannot be required on it")
    return SmtpTarget(
        hostname=parts.hostname,
        port=parts.port or _DEFAULT_PORTS[parts.scheme],
        username=unquote(parts.username) if parts.username else None,
        password=password or (unquote(parts.password) if parts.password else None),
        use_tls=use_tls,
        start_tls=False if use_tls else start_tls,
    )


def _flag(query: dict[str, list[str]], name: str) -> bool | None:
    values = query.get(name)
    if not values:
        return None
    value = values[-1].lower()
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise ValueError(f"SMTP_URL parameter {name} must be true or false")


class SmtpSender:
    """Sends one message per call over a pooled connection; at most ``size`` at once."""

    def __init__(self, target: SmtpTarget, *, size: int, timeout: float) -> None:
        self.target = target
        self.timeout = timeout
        self._slots = asyncio.Semaphore(size)
        self._idle: list[aiosmtplib.SMTP] = []

    async def send(self, message: EmailMessage) -> SmtpReceipt:
        """One attempt. Returns once the server answered 250 to DATA; raises SmtpFailure."""
        async with self._slots:
            client = self._idle.pop() if self._idle else None
            try:
                if client is None or not client.is_connected:
                    client = await self._connect()
                _errors, reply = await client.send_message(message)
            except Exception as exc:
                if client is not None:
                    await _close(client)
                raise _failure(exc) from exc
            self._idle.append(client)
            return SmtpReceipt(reply=redact_addresses(f"250 {reply}"))

    async def _connect(self) -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(
            hostname=self.target.hostname,
            port=self.target.port,
            username=self.target.username,
            password=self.target.password,
            use_tls=self.target.use_tls,
            start_tls=self.target.start_tls,
            timeout=self.timeout,
        )
        await client.connect()
        return client

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.quit(), timeout=2)
            await _close(client)


async def _close(client: aiosmtplib.SMTP) -> None:
    with contextlib.suppress(Exception):
        client.close()


def _failure(exc: Exception) -> SmtpFailure:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        refused = exc.recipients[0]
        return _response_failure(refused.code, refused.message, "recipient refused")
    if isinstance(exc, aiosmtplib.SMTPSenderRefused) and exc.code == _AUTH_REQUIRED:
        # "530 Authentication required" / "Must issue a STARTTLS command first": our
        # configuration, not this email; parking every email until it is fixed would be wrong.
        return SmtpFailure(
            redact_addresses(f"SMTPSenderRefused {exc.code} {exc.message}"),
            permanent=False,
            code=exc.code,
        )
    if isinstance(exc, aiosmtplib.SMTPSenderRefused | aiosmtplib.SMTPDataError):
        return _response_failure(exc.code, exc.message, type(exc).__name__)
    if isinstance(exc, aiosmtplib.SMTPNotSupported):  # e.g. SMTPUTF8 needed: no retry helps
        return SmtpFailure(redact_addresses(f"not supported: {exc}"), permanent=True)
    if isinstance(exc, aiosmtplib.SMTPResponseException):  # greeting, EHLO, AUTH
        return SmtpFailure(
            redact_addresses(f"{type(exc).__name__} {exc.code} {exc.message}"),
            permanent=False,
            code=exc.code,
        )
    return SmtpFailure(redact_addresses(f"{type(exc).__name__}: {exc}"), permanent=False)


def _response_failure(code: int, message: str, what: str) -> SmtpFailure:
    return SmtpFailure(
        redact_addresses(f"{what}: {code} {message}"),
        permanent=is_permanent_smtp_code(code),
        code=code,
    )
