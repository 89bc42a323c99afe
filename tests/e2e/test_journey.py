"""The whole platform as processes: an account from registration to a downloaded video, and an
editor's transcript reaching the catalogue. Everything real: HTTP, RabbitMQ, MongoDB wire
server, SMTP (mailpit)."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Platform
from tests.support.infra import MAILPIT_API_URL

pytestmark = pytest.mark.e2e

PASSWORD = "Brussels-HQ-2026!x"
NEW_PASSWORD = "Mons-SHAPE-1951?y"


def poll(probe: Any, accept: Any, timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if accept(last):
            return last
        time.sleep(0.1)
    raise AssertionError(f"{what} not reached in {timeout}s; last: {last!r}")


def mail_to(address: str, subject_part: str) -> dict[str, Any]:
    """The one email to ``address`` whose subject contains ``subject_part``, from mailpit."""

    def search() -> list[dict[str, Any]]:
        response = httpx.get(
            f"{MAILPIT_API_URL}/api/v1/search", params={"query": f'to:"{address}"'}, timeout=5
        )
        return [m for m in response.json()["messages"] if subject_part in m["Subject"]]

    found = poll(search, lambda ms: len(ms) >= 1, what=f"email to {address}")
    message = httpx.get(f"{MAILPIT_API_URL}/api/v1/message/{found[0]['ID']}", timeout=5).json()
    return {"count": len(found), **message}


def code_in(message: dict[str, Any]) -> str:
    match = re.search(r"^\s*(\d{6})\s*$", message["Text"], re.MULTILINE)
    assert match, message["Text"]
    return match.group(1)


def registered_and_verified(platform: Platform, email: str, *, newsletter: bool) -> dict[str, Any]:
    """Register, read the code from the mail server, verify: the session tokens."""
    identity = platform.url("identity")
    registered = httpx.post(
        f"{identity}/v1/registrations",
        json={"email": email, "password": PASSWORD, "language": "en", "newsletter": newsletter},
    )
    assert registered.status_code == 202, registered.text
    code = code_in(mail_to(email, "verification code"))
    verified = httpx.post(
        f"{identity}/v1/registrations/verify",
        json={"registration_id": registered.json()["registration_id"], "code": code},
    )
    assert verified.status_code == 200, verified.text
    session: dict[str, Any] = verified.json()
    return session


def test_register_verify_download(platform: Platform) -> None:
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.org"
    identity, catalog = platform.url("identity"), platform.url("catalog")
    registered = httpx.post(
        f"{identity}/v1/registrations",
        json={"email": email, "password": PASSWORD, "language": "en", "newsletter": False},
    )
    assert registered.status_code == 202, registered.text

    email_message = mail_to(email, "verification code")
    code = code_in(email_message)
    assert "This code will expire in 30 minutes" in email_message["Text"]

    verified = httpx.post(
        f"{identity}/v1/registrations/verify",
        json={"registration_id": registered.json()["registration_id"], "code": code},
    )
    assert verified.status_code == 200, verified.text
    token = verified.json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}

    videos = httpx.get(f"{catalog}/v1/videos", params={"speaker": "Mark Rutte"}).json()["items"]
    video = next(v for v in videos if v["slug"] == "msc-2026-panel-rutte-amanpour")
    detail = httpx.get(f"{catalog}/v1/videos/{video['id']}").json()
    rendition = detail["renditions"][0]

    # the catalog learns of the verification through the bus: poll until it may download
    def authorise() -> httpx.Response:
        return httpx.post(
            f"{catalog}/v1/videos/{video['id']}/renditions/{rendition['id']}/download-links",
            headers=auth,
        )

    link = poll(authorise, lambda r: r.status_code == 201, what="download authorised").json()
    url = link["url"] if link["url"].startswith("http") else catalog + link["url"]
    downloaded = httpx.get(url)
    assert downloaded.status_code == 200
    assert hashlib.sha256(downloaded.content).hexdigest() == rendition["sha256"]
    resumed = httpx.get(url, headers={"Range": "bytes=100-199"})
    assert resumed.status_code == 206 and resumed.content == downloaded.content[100:200]
    mine = httpx.get(f"{catalog}/v1/me/downloads", headers=auth).json()
    assert any(d["rendition_id"] == rendition["id"] for d in mine["items"])

    assert mail_to(email, "verification code")["count"] == 1  # exactly one email per event

    # A password change ends the old access token at the catalog too, long before it expires.
    changed = httpx.put(
        f"{identity}/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=auth,
    )
    assert changed.status_code == 200, changed.text
    revoked = poll(
        lambda: httpx.get(f"{catalog}/v1/me/downloads", headers=auth),
        lambda r: r.status_code == 401,
        what="old token refused by the catalog",
    )
    assert revoked.json()["code"] == "token_revoked"
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert httpx.get(f"{catalog}/v1/me/downloads", headers=fresh).status_code == 200
    assert mail_to(email, "password")["count"] == 1
    for service in ("identity", "notifier", "catalog"):
        for secret in (code, PASSWORD, NEW_PASSWORD):
            assert secret not in platform.log(service)


def test_editor_transcript_reaches_the_catalogue(platform: Platform) -> None:
    email = f"editor-{uuid.uuid4().hex[:8]}@example.org"
    platform.run_cli(
        "identity", "create-editor", "--email", email, "--password-file", "-", stdin=PASSWORD + "\n"
    )
    identity, catalog = platform.url("identity"), platform.url("catalog")
    session = httpx.post(f"{identity}/v1/sessions", json={"email": email, "password": PASSWORD})
    assert session.status_code == 200, session.text
    auth = {"Authorization": f"Bearer {session.json()['access_token']}"}
    video_id = "22c5491c-6464-5cc0-b059-9531450305cf"  # demo: Washington summit, Stoltenberg only

    def amanpour_videos() -> list[str]:
        found = httpx.get(f"{catalog}/v1/videos", params={"speaker": "Christiane Amanpour"})
        return [v["id"] for v in found.json()["items"]]

    assert video_id not in amanpour_videos()
    forbidden = httpx.post(
        f"{platform.url('transcript')}/v1/videos/{video_id}/transcript",
        json={"text": "x", "language": "en"},
    )
    assert forbidden.status_code == 401
    with open("tests/data/seed_panel_transcript.txt", encoding="utf-8") as seed:
        text = seed.read()
    submitted = httpx.post(
        f"{platform.url('transcript')}/v1/videos/{video_id}/transcript",
        headers=auth,
        json={"text": text, "language": "en"},
    )
    assert submitted.status_code == 201, submitted.text
    assert submitted.json()["segment_count"] == 12
    poll(amanpour_videos, lambda ids: video_id in ids, what="speakers from the transcript")


def test_newsletter_one_click_unsubscribe_from_the_email(platform: Platform) -> None:
    email = f"e2e-news-{uuid.uuid4().hex[:8]}@example.org"
    identity = platform.url("identity")
    session = registered_and_verified(platform, email, newsletter=True)
    auth = {"Authorization": f"Bearer {session['access_token']}"}

    confirmation = mail_to(email, "You are subscribed")
    headers = httpx.get(
        f"{MAILPIT_API_URL}/api/v1/message/{confirmation['ID']}/headers", timeout=5
    ).json()
    assert headers["List-Unsubscribe-Post"] == ["List-Unsubscribe=One-Click"]
    https_url = re.search(r"<(https://[^>]+)>", headers["List-Unsubscribe"][0])
    assert https_url, headers["List-Unsubscribe"]
    query = httpx.URL(https_url.group(1)).params
    assert https_url.group(1) in confirmation["Text"]

    # What the mail client POSTs to that URL, sent to identity (the site's proxy in production).
    clicked = httpx.post(
        f"{identity}/v1/newsletter/unsubscribe",
        params={"user": query["user"], "token": query["token"]},
        data={"List-Unsubscribe": "One-Click"},
    )
    assert clicked.status_code == 200, clicked.text
    assert httpx.get(f"{identity}/v1/me", headers=auth).json()["newsletter"] is False
    assert mail_to(email, "You have unsubscribed")["count"] == 1
    assert query["token"] not in platform.log("identity") + platform.log("notifier")
