"""What the pages promise at their HTTP edge, probed as an attacker would: a strict CSP and no
framing on every page, no form post without its CSRF token or from a foreign origin, and no
redirect to another site through ``next``."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.conftest import Platform

pytestmark = pytest.mark.e2e


def _pages(platform: Platform) -> list[str]:
    identity, catalog = platform.url("identity"), platform.url("catalog")
    return [
        f"{identity}/account/register",
        f"{identity}/account/sign-in",
        f"{identity}/account/reset",
        f"{catalog}/videos",
        f"{catalog}/videos/msc-2026-panel-rutte-amanpour",
    ]


def test_every_page_has_a_strict_policy_and_cannot_be_framed(platform: Platform) -> None:
    for url in _pages(platform):
        response = httpx.get(url)
        assert response.status_code == 200, url
        policy = response.headers["content-security-policy"]
        for directive in (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ):
            assert directive in policy, (url, directive)
        assert "unsafe" not in policy
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert not re.search(r"(src|href)=\"(https?:)?//(?!127\.0\.0\.1)", response.text), url


def _csrf(url: str) -> str:
    """A fresh CSRF token, as a first visit sets it (a Secure cookie, which httpx keeps only
    for https, so the tests send it back by hand)."""
    page = httpx.get(url)
    cookie = re.search(r"portal_csrf=([^;]+);", page.headers["set-cookie"])
    field = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert cookie and field and cookie.group(1) == field.group(1)
    assert re.search(r"portal_csrf=[^,]*HttpOnly", page.headers["set-cookie"], re.I)
    return field.group(1)


def test_a_form_post_without_its_token_or_from_another_site_is_refused(
    platform: Platform,
) -> None:
    url = f"{platform.url('identity')}/account/sign-in"
    form = {"email": "nobody@example.org", "password": "Wrong-password-1!"}
    token = _csrf(url)
    cookie = {"Cookie": f"portal_csrf={token}"}
    assert httpx.post(url, data=form, headers=cookie).status_code == 403  # no token
    wrong = {**form, "csrf": "x" * 43}
    assert httpx.post(url, data=wrong, headers=cookie).status_code == 403
    assert httpx.post(url, data={**form, "csrf": token}).status_code == 403  # no cookie
    foreign = httpx.post(
        url, data={**form, "csrf": token}, headers={**cookie, "Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    own = httpx.post(url, data={**form, "csrf": token}, headers=cookie)
    assert own.status_code == 400 and "Wrong email address or password" in own.text
    catalog = platform.url("catalog")
    download = f"{catalog}/videos/msc-2026-panel-rutte-amanpour/renditions/x/download"
    assert httpx.post(download, data={"csrf": token}).status_code == 403


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/x", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"],
)
def test_next_never_leads_to_another_site(platform: Platform, target: str) -> None:
    page = httpx.get(f"{platform.url('identity')}/account/sign-in", params={"next": target})
    kept = re.search(r'name="next" value="([^"]*)"', page.text)
    assert kept and kept.group(1) == f"{platform.url('catalog')}/videos"


@pytest.mark.parametrize(
    "query",
    [
        {"language": "zz"},
        {"sort": "random"},
        {"cursor": "not-a-cursor"},
        {"q": "a " * 300},
        {"speaker": "x" * 500},
        {"event": "e" * 500},
    ],
)
def test_bad_search_input_is_a_sentence_not_a_crash(platform: Platform, query: dict) -> None:
    page = httpx.get(f"{platform.url('catalog')}/videos", params=query)
    assert page.status_code == 400, (query, page.status_code)
    assert "error-summary" in page.text and "<h1>Videos</h1>" in page.text


def test_bad_form_input_is_a_sentence_not_a_crash(platform: Platform) -> None:
    url = f"{platform.url('identity')}/account/sign-in"
    token = _csrf(url)
    for email in ("", "not-an-address", "x" * 5000 + "@example.org", "a@b\x00.org"):
        answer = httpx.post(
            url,
            data={"email": email, "password": "x", "csrf": token},
            headers={"Cookie": f"portal_csrf={token}"},
        )
        assert 400 <= answer.status_code < 500, (email[:20], answer.status_code)
    unknown = httpx.get(f"{platform.url('catalog')}/videos/no-such-video")
    assert unknown.status_code == 404 and "Video not found" in unknown.text
