"""Conformance with the published contract, as another system subscribing to the bus sees it.

The test binds its own queue to the platform's exchange (``portal.#``), runs every flow that
emits events through the services' HTTP APIs, parses each captured message with the official
CloudEvents SDK (its RabbitMQ binding) and validates its ``data`` against the JSON Schema
published in docs/events/ for its type; every type in the contract is seen at least once.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
from cloudevents.core.bindings.rabbitmq import RabbitMQMessage, from_rabbitmq_event
from jsonschema import Draft202012Validator

from tests.e2e.conftest import Platform
from tests.e2e.test_journey import PASSWORD, code_in, mail_to, poll
from tests.support.infra import AMQP_URL

pytestmark = pytest.mark.e2e

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "events"
CONTRACT = {
    p.name.removesuffix(".json"): json.loads(p.read_text("utf-8")) for p in SCHEMAS.glob("*.json")
}
NEW_PASSWORD = "Evere-Campus-2026?z"
# The demo videos test_journey relies on (downloads, speakers from a transcript): left alone.
JOURNEY_VIDEOS = {"d642416b-dcfb-52b0-8d76-b436900aa7d4", "22c5491c-6464-5cc0-b059-9531450305cf"}
TIMED_VTT = (
    "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Mark Rutte>We act.\n\n"
    "00:00:09.000 --> 00:00:12.500\nAnd fast.\n\n"
    "00:00:13.000 --> 00:00:14.000\n<v Question [Reuters]>When?\n"
)


class Capture:
    """A queue of our own bound to every portal routing key on the platform's exchange."""

    def __init__(self, exchange: str) -> None:
        self.exchange = exchange
        self.queue = f"{exchange}.contract-capture-{uuid.uuid4().hex[:6]}"
        self.messages: list[aio_pika.abc.AbstractIncomingMessage] = []

    async def _open(self) -> None:
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(
                self.queue, durable=False, arguments={"x-expires": 600_000}
            )
            await queue.bind(self.exchange, routing_key="portal.#")

    async def _drain(self) -> None:
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(self.queue, passive=True)
            while (message := await queue.get(fail=False, no_ack=True)) is not None:
                self.messages.append(message)

    async def _delete(self) -> None:
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(self.queue)

    def open(self) -> None:
        asyncio.run(self._open())

    def types(self) -> set[str]:
        asyncio.run(self._drain())
        return {m.routing_key or "" for m in self.messages}

    def delete(self) -> None:
        asyncio.run(self._delete())


@pytest.fixture
def capture(platform: Platform) -> Iterator[Capture]:
    capture = Capture(platform.env["AMQP_EXCHANGE"])
    capture.open()
    yield capture
    capture.delete()


def _account_flows(platform: Platform, capture: Capture) -> str:
    """Every identity event, and a download (catalog's DownloadAuthorized) on the way."""
    identity, catalog = platform.url("identity"), platform.url("catalog")
    email = f"contract-{uuid.uuid4().hex[:8]}@example.org"
    account = {"email": email, "password": PASSWORD, "language": "en", "newsletter": True}
    registered = httpx.post(f"{identity}/v1/registrations", json=account)
    assert registered.status_code == 202, registered.text
    code = code_in(mail_to(email, "Your NATO Multimedia verification code"))
    verified = httpx.post(
        f"{identity}/v1/registrations/verify",
        json={"registration_id": registered.json()["registration_id"], "code": code},
    )
    assert verified.status_code == 200, verified.text  # UserVerified, NewsletterSubscribed
    auth = {"Authorization": f"Bearer {verified.json()['access_token']}"}
    poll(  # RegistrationAttemptedOnExistingAccount, once the resend cooldown (1 s) is over
        lambda: httpx.post(f"{identity}/v1/registrations", json=account),
        lambda r: r.status_code == 202,
        what="registration on the existing account",
    )

    other = f"contract-{uuid.uuid4().hex[:8]}@example.org"
    pending = httpx.post(f"{identity}/v1/registrations", json={**account, "email": other})
    assert pending.status_code == 202, pending.text
    pending_id = pending.json()["registration_id"]
    reissued = "portal.identity.VerificationCodeReissued.v1"

    def resend() -> set[str]:
        # The answer is 202 even inside the resend cooldown (it reveals nothing), so ask again
        # until the event is out.
        answer = httpx.post(
            f"{identity}/v1/registrations/resend", json={"registration_id": pending_id}
        )
        assert answer.status_code in (202, 429), answer.text
        return capture.types()

    poll(resend, lambda seen: reissued in seen, what="VerificationCodeReissued")

    assert httpx.delete(f"{identity}/v1/me/newsletter", headers=auth).status_code == 200
    video = next(iter(httpx.get(f"{catalog}/v1/videos").json()["items"]))
    rendition = httpx.get(f"{catalog}/v1/videos/{video['id']}").json()["renditions"][0]
    poll(
        lambda: httpx.post(
            f"{catalog}/v1/videos/{video['id']}/renditions/{rendition['id']}/download-links",
            headers=auth,
        ),
        lambda r: r.status_code == 201,
        what="download authorised",
    )

    requested = poll(  # ResetRequested
        lambda: httpx.post(f"{identity}/v1/password-resets", json={"email": email}),
        lambda r: r.status_code == 202,
        what="reset requested",
    )
    reset_code = code_in(mail_to(email, "Reset your NATO Multimedia password"))
    token = httpx.post(
        f"{identity}/v1/password-resets/verify",
        json={"reset_id": requested.json()["reset_id"], "code": reset_code},
    ).json()["reset_token"]
    done = httpx.post(
        f"{identity}/v1/password-resets/complete",
        json={"reset_token": token, "new_password": NEW_PASSWORD},
    )
    assert done.status_code == 200, done.text  # PasswordChanged, SessionsRevoked
    session = httpx.post(f"{identity}/v1/sessions", json={"email": email, "password": NEW_PASSWORD})
    fresh = {"Authorization": f"Bearer {session.json()['access_token']}"}
    assert httpx.delete(f"{identity}/v1/me", headers=fresh).status_code == 204  # UserDeleted
    return email


def _editor_flows(platform: Platform) -> None:
    """An editor unpublishes and republishes a video and submits a timed transcript for it."""
    identity, catalog = platform.url("identity"), platform.url("catalog")
    email = f"contract-editor-{uuid.uuid4().hex[:8]}@example.org"
    platform.run_cli(
        "identity", "create-editor", "--email", email, "--password-file", "-", stdin=PASSWORD + "\n"
    )
    session = httpx.post(f"{identity}/v1/sessions", json={"email": email, "password": PASSWORD})
    auth = {"Authorization": f"Bearer {session.json()['access_token']}"}
    listed = httpx.get(f"{catalog}/v1/editor/videos", params={"limit": 100}, headers=auth)
    videos = listed.json()["items"]
    video = next(v for v in videos if v["published"] and v["id"] not in JOURNEY_VIDEOS)
    path = f"{catalog}/v1/editor/videos/{video['id']}"
    assert httpx.post(f"{path}/unpublish", headers=auth).status_code == 200
    assert httpx.post(f"{path}/publish", headers=auth).status_code == 200
    submitted = httpx.post(
        f"{platform.url('transcript')}/v1/videos/{video['id']}/transcript",
        headers=auth,
        json={"text": TIMED_VTT, "language": "en"},
    )
    assert submitted.status_code == 201, submitted.text


def test_every_published_event_conforms_to_the_contract(
    platform: Platform, capture: Capture
) -> None:
    _account_flows(platform, capture)
    _editor_flows(platform)
    poll(capture.types, lambda seen: set(CONTRACT) <= seen, timeout=60, what="every event type")

    validators = {
        t: Draft202012Validator(s, format_checker=Draft202012Validator.FORMAT_CHECKER)
        for t, s in CONTRACT.items()
    }
    for message in capture.messages:
        event = from_rabbitmq_event(
            RabbitMQMessage(
                headers={k: str(v) for k, v in (message.headers or {}).items()},
                content_type=message.content_type,
                body=message.body,
            )
        )
        event_type = event.get_type()
        assert event_type == message.routing_key and event_type in CONTRACT, event_type
        assert (
            event.get_specversion() == "1.0"
            and event.get_source() == f"/{event_type.split('.')[1]}"
        )
        assert event.get_dataschema() == CONTRACT[event_type]["$id"]
        assert event.get_datacontenttype() == "application/json"
        data: Any = event.get_data()
        errors = [e.message for e in validators[event_type].iter_errors(data)]
        assert not errors, f"{event_type} data does not match its schema: {errors}"
        # Producers are strict: nothing outside the published fields.
        assert set(data) == set(CONTRACT[event_type]["properties"]), event_type
    segments = [
        json.loads(m.body)["data"]
        for m in capture.messages
        if m.routing_key == "portal.transcript.TranscriptSegmentPublished.v1"
    ]
    timed = [s for s in segments if s["cues"] and s["cues"][-1]["start"] == 9.0]
    assert timed and timed[0]["cues"][0] == {"start": 1.0, "end": 4.0, "text": "We act."}
