"""The code page tells how long until a new code may be asked for (rendered, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from identity.entrypoints.page_support import cooldown, pages_of
from starlette.requests import Request

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def _ctx(cooldown_seconds: int) -> Any:
    settings = SimpleNamespace(
        resend_cooldown_seconds=cooldown_seconds,
        account_pages_url="http://127.0.0.1:8001",
        video_pages_url="http://127.0.0.1:8003",
    )
    return SimpleNamespace(settings=settings, now=lambda: NOW)


def _request(query: bytes = b"") -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/account/verify",
            "query_string": query,
            "headers": [],
            "server": ("127.0.0.1", 8001),
            "scheme": "http",
            "root_path": "",
        }
    )


def _page(ctx: Any, wait: int, query: bytes = b"") -> str:
    response = pages_of(ctx).render(
        _request(query),
        "code.html",
        title_key="verify_title",
        body_key="verify_body",
        minutes=30,
        action="/account/verify",
        resend_action="/account/verify/resend",
        wait=wait,
        resent=False,
        errors={},
    )
    return bytes(response.body).decode()


def test_the_cooldown_left_is_counted_from_the_last_code_sent() -> None:
    ctx = _ctx(60)
    assert cooldown(ctx, {"sent_at": NOW.timestamp() - 18}) == 42
    assert cooldown(ctx, {"sent_at": NOW.timestamp() - 600}) == 0


def test_the_code_page_shows_the_cooldown_in_the_chosen_language() -> None:
    ctx = _ctx(60)
    english = _page(ctx, 42)
    assert "You can ask for a new code in 42 seconds." in english
    assert "Send new code" in english and "expire in 30 minutes" in english
    french = _page(ctx, 42, b"lang=fr")
    assert "Vous pourrez demander un nouveau code dans 42 secondes." in french
    assert 'lang="fr"' in french
    assert "You can ask" not in _page(ctx, 0)
