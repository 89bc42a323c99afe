"""The account and video pages in a real browser (Debian's Chromium through Playwright) against
the four services as processes: the whole journey in English, in French and with JavaScript
off. Every page is checked by axe-core and photographed (tests/artifacts/browser/<test>/)."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Platform
from tests.support.browser import GuardedContext, Shots, assert_accessible
from tests.support.infra import MAILPIT_API_URL

pytestmark = pytest.mark.e2e

PASSWORD = "Brussels-HQ-2026!x"
NEW_PASSWORD = "Mons-SHAPE-1951?y"
SLUG = "msc-2026-panel-rutte-amanpour"
WORDS = {
    "en": {"register": "Create an account", "verify": "Verify", "sign_in": "Sign in",
           "sign_out": "Sign out", "forgot": "Forgot your password?", "reset": "Reset password",
           "save": "Save the new password", "return": "Return and log in",
           "continue": "Continue", "download": "Download", "delete": "Delete my account",
           "account": "My account", "downloads": "My downloads",
           "welcome": "You have successfully created your account",
           "wrong_code": "This code is not right", "updated": "Your password has been updated",
           "deleted": "Your account has been deleted", "check": "Check your inbox",
           "unverified": "Verify your email address first",
           "enter_code": "Enter the verification code",
           "subscribe": "Subscribe to our newsletter", "subscribed": "You are subscribed",
           "resend": "Send new code", "resent": "We have sent a new code"},
    "fr": {"register": "Créer un compte", "verify": "Vérifier", "sign_in": "Se connecter",
           "sign_out": "Se déconnecter", "forgot": "Mot de passe oublié ?",
           "reset": "Réinitialiser le mot de passe", "save": "Enregistrer le nouveau mot de passe",
           "return": "Revenir et se connecter", "continue": "Continuer",
           "download": "Télécharger", "delete": "Supprimer mon compte",
           "account": "Mon compte", "downloads": "Mes téléchargements",
           "welcome": "Votre compte a bien été créé", "wrong_code": "Ce code n’est pas le bon",
           "updated": "Votre mot de passe a été mis à jour",
           "deleted": "Votre compte a été supprimé", "check": "Consultez votre boîte",
           "unverified": "Vérifiez d’abord votre adresse",
           "enter_code": "Saisir le code de vérification",
           "subscribe": "S’abonner à la lettre d’information", "subscribed": "Vous êtes abonné",
           "resend": "Envoyer un nouveau code", "resent": "Nous avons envoyé un nouveau code"},
}  # fmt: skip


def poll(probe: Callable[[], Any], accept: Callable[[Any], bool], what: str, timeout=30.0) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if accept(last):
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what} not reached in {timeout}s; last: {last!r}")


def codes_sent_to(address: str) -> list[str]:
    """The six-digit codes of every email to ``address``, newest first (mailpit's API)."""
    found = httpx.get(
        f"{MAILPIT_API_URL}/api/v1/search", params={"query": f'to:"{address}"'}, timeout=5
    ).json()["messages"]
    codes = []
    for summary in found:
        text = httpx.get(f"{MAILPIT_API_URL}/api/v1/message/{summary['ID']}", timeout=5).json()
        match = re.search(r"^\s*(\d{6})\s*$", text["Text"], re.MULTILINE)
        if match:
            codes.append(match.group(1))
    return codes


def next_code(address: str, already: int) -> str:
    codes = poll(lambda: codes_sent_to(address), lambda c: len(c) > already, f"code {already + 1}")
    return codes[0]


@pytest.fixture(scope="module")
def panel_transcript(platform: Platform) -> None:
    """The demo panel's transcript, published by the transcript service (the catalog keeps its
    segments from the events)."""
    platform.run_cli("transcript", "load-demo")


def visit(page: Page, shots: Shots, step: str, language: str) -> None:
    """Each page: in the chosen language, accessible, photographed."""
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert_accessible(page)
    shots(page, step)


@pytest.mark.parametrize(
    ("language", "javascript"),
    [("en", True), ("fr", True), ("en", False)],
    ids=["english", "french", "no-javascript"],
)
def test_the_whole_journey(
    platform: Platform,
    browser_context: Callable[..., GuardedContext],
    shots: Shots,
    panel_transcript: None,
    language: str,
    javascript: bool,
) -> None:
    words = WORDS[language]
    identity, catalog = platform.url("identity"), platform.url("catalog")
    email = f"browser-{uuid.uuid4().hex[:8]}@example.org"
    detail = httpx.get(f"{catalog}/v1/videos/{SLUG}").json()
    rendition = min(detail["renditions"], key=lambda r: r["file_size"])
    page = browser_context(javascript=javascript).new_page()

    # The videos, then one video: no download button for a stranger, an offer to sign up.
    page.goto(f"{catalog}/videos?lang={language}")
    visit(page, shots, "videos", language)
    page.get_by_label(re.compile("Speaker|Intervenant")).fill("Rutte")
    page.get_by_role("button", name=re.compile("Search|Rechercher")).click()
    page.get_by_role("link", name=detail["title"]).click()
    expect(page).to_have_url(f"{catalog}/videos/{SLUG}")
    assert page.get_by_role("button", name=words["download"]).count() == 0
    visit(page, shots, "video-signed-out", language)

    # Create an account (the password rules tick as they are met when JavaScript is on).
    page.get_by_role("link", name=re.compile(words["register"])).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["register"])
    page.get_by_label(re.compile("Email|Adresse")).fill(email)
    page.locator("#password").fill(PASSWORD)
    if javascript:
        expect(page.locator("#password-rules li.met")).to_have_count(6)
    else:
        expect(page.locator("#password-rules li.met")).to_have_count(0)
    visit(page, shots, "register", language)
    page.get_by_role("button", name=words["register"]).click()

    # The code: a wrong one first, then the one from the email.
    expect(page.get_by_role("heading", level=1)).to_contain_text(words["check"])
    visit(page, shots, "verify", language)
    # Signing in before verifying: told to verify, and led back to the code.
    page.goto(f"{identity}/account/sign-in")
    page.get_by_label(re.compile("Email|Adresse")).fill(email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name=words["sign_in"]).last.click()
    expect(page.get_by_role("alert")).to_contain_text(words["unverified"])
    visit(page, shots, "sign-in-unverified", language)
    page.get_by_role("link", name=words["enter_code"]).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(words["check"])
    code = next_code(email, 0)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    page.locator("#code").fill(wrong)
    page.get_by_role("button", name=words["verify"]).click()
    expect(page.locator("#code-error")).to_contain_text(words["wrong_code"])
    expect(page.locator("#code")).to_have_attribute("aria-invalid", "true")
    visit(page, shots, "verify-wrong-code", language)
    # "Send new code" (the platform's cooldown is 1 s): only the newest code works.
    page.get_by_role("button", name=words["resend"]).click()
    expect(page.get_by_role("status").first).to_contain_text(words["resent"])
    visit(page, shots, "verify-code-resent", language)
    first, code = code, next_code(email, 1)
    if first != code:
        page.locator("#code").fill(first)
        page.get_by_role("button", name=words["verify"]).click()
        expect(page.locator("#code")).to_have_attribute("aria-invalid", "true")
    page.locator("#code").fill(code)
    page.get_by_role("button", name=words["verify"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["welcome"])
    visit(page, shots, "welcome", language)
    cookies = {c["name"]: c for c in page.context.cookies()}
    for name, path, same_site in [("portal_access", "/", "Lax"),
                                  ("portal_refresh", "/account", "Strict"),
                                  ("portal_csrf", "/", "Strict")]:  # fmt: skip
        assert cookies[name]["httpOnly"] and cookies[name]["secure"], name
        assert (cookies[name]["path"], cookies[name]["sameSite"]) == (path, same_site), name
    page.get_by_role("button", name=words["subscribe"]).click()
    expect(page.get_by_role("status")).to_contain_text(words["subscribed"])
    page.get_by_role("link", name=words["continue"]).click()
    expect(page).to_have_url(f"{catalog}/videos/{SLUG}")

    # Back on the video: the catalog hears of the verification through the bus.
    button = page.get_by_role("button", name=re.compile(re.escape(rendition["label"])))
    turns = page.locator(".transcript h3")
    poll(lambda: page.reload() and button.count() and turns.count(), bool, "button, transcript")
    # The transcript by speaker, in the order spoken (the seed panel starts with the moderator).
    expect(turns.first).to_have_text("Christiane Amanpour")
    expect(page.locator(".transcript")).to_contain_text("what can President Zelenskyy")
    assert "Mark Rutte" in turns.all_text_contents()
    visit(page, shots, "video-signed-in", language)
    with page.expect_download() as started:
        button.click()
    downloaded = started.value.path().read_bytes()
    assert hashlib.sha256(downloaded).hexdigest() == rendition["sha256"]
    assert len(downloaded) == rendition["file_size"]
    page.get_by_role("link", name=words["downloads"]).click()
    expect(page.get_by_role("rowheader", name=rendition["file_name"])).to_be_visible()
    visit(page, shots, "my-downloads", language)

    # Sign out, then reset the password from the video page and come back to it.
    page.get_by_role("button", name=words["sign_out"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["sign_in"])
    visit(page, shots, "signed-out", language)
    page.goto(f"{catalog}/videos/{SLUG}")
    page.get_by_role("link", name=re.compile(words["sign_in"])).last.click()
    page.get_by_role("link", name=words["forgot"]).click()
    visit(page, shots, "reset", language)
    page.get_by_label(re.compile("Email|Adresse")).fill(email)
    page.get_by_role("button", name=words["reset"]).click()
    visit(page, shots, "reset-code", language)
    page.locator("#code").fill(next_code(email, 2))
    page.get_by_role("button", name=words["verify"]).click()
    page.locator("#password").fill("short")
    page.get_by_role("button", name=words["save"]).click()
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    visit(page, shots, "new-password-rejected", language)
    page.locator("#password").fill(NEW_PASSWORD)
    page.get_by_role("button", name=words["save"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["updated"])
    visit(page, shots, "password-updated", language)
    page.get_by_role("link", name=words["return"]).click()

    # Sign in with the new password: back on the video.
    page.get_by_label(re.compile("Email|Adresse")).fill(email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name=words["sign_in"]).last.click()
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    visit(page, shots, "sign-in-old-password", language)
    page.locator("#password").fill(NEW_PASSWORD)
    page.get_by_role("button", name=words["sign_in"]).last.click()
    expect(page).to_have_url(f"{catalog}/videos/{SLUG}")
    expect(button).to_be_visible()
    # The browser now keeps a device cookie, sent back to the sign-in form only.
    device = {c["name"]: c for c in page.context.cookies()}["portal_device"]
    assert device["httpOnly"] and device["secure"]
    assert (device["path"], device["sameSite"]) == ("/account/sign-in", "Strict")

    # Delete the account: signed out, and the password no longer opens anything.
    page.get_by_role("link", name=words["account"]).click()
    visit(page, shots, "account", language)
    page.get_by_role("link", name=words["delete"]).click()
    visit(page, shots, "delete", language)
    page.get_by_role("button", name=words["delete"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["deleted"])
    visit(page, shots, "deleted", language)
    gone = httpx.post(f"{identity}/v1/sessions", json={"email": email, "password": NEW_PASSWORD})
    assert gone.status_code == 401
