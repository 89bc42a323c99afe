"""Every template, in every language, against reviewed expected files.

The expected files in tests/data/notifier/expected/<language>/<kind>.{subject,txt,html} were
generated once by running this module as a script, then read and corrected by hand before
being frozen: a difference here is a copy change to review, not noise. To regenerate after a
deliberate change: ``.venv/bin/python tests/unit/notifier/test_rendering_golden.py`` and
review the diff.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from notifier.domain.kinds import MailKind
from notifier.domain.languages import SUPPORTED_LANGUAGES
from notifier.domain.mail_identity import MailIdentity
from notifier.domain.rendering import render_email

EXPECTED = Path(__file__).resolve().parents[2] / "data" / "notifier" / "expected"
NOW = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
EVENT_ID = "0f8c6a4e-7d8b-4c1e-9a61-2f3b4c5d6e7f"
PRIVATE = {
    "user_id": "usr_7Qm2",
    "email": "jane.doe@example.org",
    "code": "483920",
    "unsubscribe_token": "tok_9Zx",
}
IDENTITY = MailIdentity(
    from_address="no-reply@multimedia.example.org",
    from_name="NATO Multimedia",
    reply_to="support@multimedia.example.org",
    message_id_domain="multimedia.example.org",
    site_url="https://multimedia.example.org/",
    unsubscribe_url_template="https://multimedia.example.org/newsletter/unsubscribe?user={user_id}&token={token}",
)
CASES = [(kind, language) for kind in MailKind for language in SUPPORTED_LANGUAGES]


def render(kind: MailKind, language: str) -> dict[str, str]:
    message = render_email(
        kind,
        PRIVATE,
        language,
        NOW,
        IDENTITY,
        EVENT_ID,
        code_expires_at=NOW + timedelta(minutes=30),
    )
    return {
        "subject": str(message["Subject"]) + "\n",
        "txt": _body(message, "plain"),
        "html": _body(message, "html"),
    }


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None and part.get_content_type() == f"text/{subtype}"
    return part.get_content()


@pytest.mark.parametrize(("kind", "language"), CASES, ids=[f"{k}-{lang}" for k, lang in CASES])
def test_rendered_email_matches_reviewed_copy(kind: MailKind, language: str) -> None:
    rendered = render(kind, language)
    for suffix, content in rendered.items():
        expected = (EXPECTED / language / f"{kind}.{suffix}").read_text(encoding="utf-8")
        assert content == expected, f"{language}/{kind}.{suffix} differs from the reviewed copy"


@pytest.mark.parametrize(("kind", "language"), CASES, ids=[f"{k}-{lang}" for k, lang in CASES])
def test_html_loads_nothing_remote_and_runs_nothing(kind: MailKind, language: str) -> None:
    html = render(kind, language)["html"].lower()
    forbidden = (
        "<img", "<script", "<link", "<style", "<iframe", "<object", "<embed", "<form", "<svg",
        "<video", "<audio", "<base", "src=", "srcset=", "background=", "url(", "@import",
        "http://", "javascript:",
    )  # fmt: skip
    for needle in forbidden:
        assert needle not in html, needle
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", html)  # no onload=, onclick=... handlers


def _write_expected() -> None:
    for kind, language in CASES:
        folder = EXPECTED / language
        folder.mkdir(parents=True, exist_ok=True)
        for suffix, content in render(kind, language).items():
            (folder / f"{kind}.{suffix}").write_text(content, encoding="utf-8")


if __name__ == "__main__":
    _write_expected()
