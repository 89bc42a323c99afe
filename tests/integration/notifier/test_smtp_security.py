"""TLS (STARTTLS or implicit) and authentication from settings, against SMTP servers that
require them: a private mailpit with a self-signed certificate for 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.integration.notifier.helpers import (
    SealingKeys,
    notifier_app,
    notifier_settings,
    parked_messages,
    spare_mailpit,
    user_registered,
)
from tests.support.infra import eventually, unique
from tests.support.service import running, runtime_of

pytestmark = pytest.mark.integration

USER, PASSWORD = "mailer", "s3cret:pass@word"


@pytest.fixture
def tls_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Certificate and key for 127.0.0.1, trusted by this process (as a private CA would be
    through SSL_CERT_FILE), and mailpit's password file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file, auth_file = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "auth"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    auth_file.write_text(f"{USER}:{PASSWORD}\n")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    return [
        "--smtp-tls-cert", str(cert_file),
        "--smtp-tls-key", str(key_file),
        "--smtp-auth-file", str(auth_file),
    ]  # fmt: skip


async def test_starttls_and_authentication_with_the_password_from_a_file(
    make_bus: Any,
    exchange_name: str,
    keys: SealingKeys,
    service_name: Any,
    tls_files: list[str],
    tmp_path: Path,
) -> None:
    password_file = tmp_path / "smtp_password"
    password_file.write_text(PASSWORD + "\n")
    async with spare_mailpit(options=[*tls_files, "--smtp-require-starttls"]) as mailpit:
        settings = notifier_settings(
            service_name(),
            exchange_name,
            keys,
            smtp_url=f"smtp://{USER}:stale-password@127.0.0.1:{mailpit.smtp_port}",
            smtp_starttls=True,
            smtp_password_file=password_file,  # wins over the URL's
        )
        publisher = await make_bus(unique("identity"))
        cloudevent = user_registered(keys, user_id=unique("usr"), email="tls@example.org")
        async with running(notifier_app(settings)):
            await publisher.publish(cloudevent)
            email = await mailpit.one_message_for(cloudevent.id)
    assert "483920" in email["Text"]


async def test_implicit_tls_with_credentials_in_the_url(
    make_bus: Any, exchange_name: str, keys: SealingKeys, service_name: Any, tls_files: Any
) -> None:
    async with spare_mailpit(options=[*tls_files, "--smtp-require-tls"]) as mailpit:
        settings = notifier_settings(
            service_name(),
            exchange_name,
            keys,
            smtp_url=f"smtps://{USER}:s3cret%3Apass%40word@127.0.0.1:{mailpit.smtp_port}",
        )
        publisher = await make_bus(unique("identity"))
        cloudevent = user_registered(keys, user_id=unique("usr"), email="smtps@example.org")
        async with running(notifier_app(settings)):
            await publisher.publish(cloudevent)
            await mailpit.one_message_for(cloudevent.id)


async def test_missing_or_wrong_credentials_are_temporary_and_never_send(
    make_bus: Any,
    exchange_name: str,
    keys: SealingKeys,
    service_name: Any,
    tls_files: list[str],
    amqp: Any,
) -> None:
    """Our account's problem, not the email's: retried without spending attempts (never parked
    as a 5xx would be) until the email is too old to be worth sending; then parked with the
    reason, and the password is nowhere."""
    anonymous_service, wrong_service = service_name(), service_name()
    async with spare_mailpit(options=[*tls_files, "--smtp-require-starttls"]) as mailpit:
        port = mailpit.smtp_port
        anonymous = notifier_app(
            notifier_settings(
                anonymous_service,
                exchange_name,
                keys,
                smtp_url=f"smtp://127.0.0.1:{port}",
                max_handling_attempts=1000,
            )
        )
        wrong = notifier_app(
            notifier_settings(
                wrong_service,
                exchange_name,
                keys,
                smtp_url=f"smtp://{USER}:not-the-password@127.0.0.1:{port}",
                give_up_after_seconds=0.001,
            )
        )
        publisher = await make_bus(unique("identity"))
        cloudevent = user_registered(keys, user_id=unique("usr"), email="auth@example.org")
        async with running(anonymous), running(wrong):
            await publisher.publish(cloudevent)  # both services' queues get it
            pending = await eventually(
                lambda: runtime_of(anonymous).db["deliveries"].find_one({"_id": cloudevent.id}),
                lambda r: r is not None and r["attempts"] >= 2,
                what="unauthenticated attempts recorded",
            )
            parked = await eventually(lambda: parked_messages(amqp, wrong_service), what="parked")
            failed = await runtime_of(wrong).db["deliveries"].find_one({"_id": cloudevent.id})
        assert await mailpit.messages_for(cloudevent.id) == []
    assert pending["status"] in {"retrying", "sending"} and "530" in pending["last_error"]
    assert failed["status"] == "failed" and "535" in failed["last_error"]
    assert "535" in parked[0].headers["x-portal-parked-reason"]
    assert "not-the-password" not in repr(failed) + repr(parked[0].headers)
