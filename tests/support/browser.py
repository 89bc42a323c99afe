"""Browser test fixtures: Playwright for Python driving Debian's Chromium, with axe-core.

Use them from a conftest (or a test module) with::

    from tests.support.browser import browser, browser_context, page  # noqa: F401

- ``browser`` (per test module): headless ``/usr/bin/chromium`` (Debian's package, installed by
  ``deploy/local/infra.sh up``), no sandbox when run as root, background networking, component
  updates, sync, metrics and first-run work off, and every host name but 127.0.0.1 resolving
  to nothing, so the browser itself cannot phone home.
- ``browser_context``: a factory of contexts (``javascript=False`` for the no-script runs,
  ``locale``); each context aborts every request to a host other than 127.0.0.1 and records
  it, and the test fails if a page asked for one (no third-party assets).
- ``page``: a page in a default context (JavaScript on, English).
- ``Shots`` / ``shots`` fixture: numbered full-page screenshots in
  ``tests/artifacts/browser/<test name>/`` (``PORTAL_TEST_ARTIFACTS`` overrides the root).
- ``assert_accessible(page)``: runs axe-core (``tests/browser/node_modules``, from the npm
  lock) in the page and fails on any serious or critical violation. The script is evaluated
  through the DevTools protocol, so the page's own Content-Security-Policy stays in force.
  axe needs timers, which a page with JavaScript off never fires: such a page's DOM (what the
  server sent) is checked in a scripted twin page at the same URL, whose page scripts are
  refused by ``script-src 'none'``, so its stylesheets and images still load from the server.
"""

from __future__ import annotations

import os
import re
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route, sync_playwright

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium"))
AXE_SCRIPT = REPO_ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("PORTAL_TEST_ARTIFACTS", REPO_ROOT / "tests" / "artifacts"))
ALLOWED_HOSTS = frozenset({"127.0.0.1"})
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
_NO_SCRIPT: weakref.WeakSet[BrowserContext] = weakref.WeakSet()

CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-breakpad",
    "--disable-client-side-phishing-detection",
    "--disable-sync",
    "--disable-extensions",
    "--metrics-recording-only",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-pings",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,"
    "CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions",
    # Belt and braces under Playwright's request routing: names other than loopback resolve
    # to nothing, for the browser process itself as well as for pages.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


# Module scope, not session: Playwright's sync API keeps its event loop marked as running in
# the main thread while it is started, which would break asyncio.run() and the async tests of
# every module that runs after the browser tests.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: deploy/local/infra.sh up installs Debian's chromium")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    args = list(CHROMIUM_ARGS)
    if os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium's sandbox refuses to run as root
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
    yield browser
    browser.close()


@dataclass
class GuardedContext:
    """A browser context that only reaches loopback; ``blocked`` lists what a page tried."""

    context: BrowserContext
    blocked: list[str] = field(default_factory=list)

    def new_page(self) -> Page:
        return self.context.new_page()


def _guard(context: BrowserContext, blocked: list[str]) -> None:
    def route(r: Route) -> None:
        url = r.request.url
        if urlsplit(url).hostname in ALLOWED_HOSTS:
            r.continue_()
        else:
            blocked.append(url)
            r.abort("blockedbyclient")

    context.route(re.compile(r"^(?!data:|blob:|about:).*"), route)


@pytest.fixture
def browser_context(browser: Browser) -> Iterator[Callable[..., GuardedContext]]:
    made: list[GuardedContext] = []

    def make(*, javascript: bool = True, locale: str = "en-GB", **options: Any) -> GuardedContext:
        context = browser.new_context(
            java_script_enabled=javascript,
            locale=locale,
            accept_downloads=True,
            viewport={"width": 1280, "height": 900},
            **options,
        )
        context.set_default_timeout(15_000)
        if not javascript:
            _NO_SCRIPT.add(context)
        guarded = GuardedContext(context)
        _guard(context, guarded.blocked)
        made.append(guarded)
        return guarded

    yield make
    blocked = [url for guarded in made for url in guarded.blocked]
    for guarded in made:
        guarded.context.close()
    assert not blocked, f"pages asked for hosts other than 127.0.0.1: {blocked}"


@pytest.fixture
def page(browser_context: Callable[..., GuardedContext]) -> Page:
    return browser_context().new_page()


class Shots:
    """Numbered full-page screenshots of one test, as artifacts."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()

    def __call__(self, page: Page, step: str) -> Path:
        self.count += 1
        name = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    return Shots(ARTIFACTS / "browser" / test)


def axe_violations(page: Page, impacts: frozenset[str] = BLOCKING_IMPACTS) -> list[dict[str, Any]]:
    """axe-core's violations of the page (WCAG 2.0/2.1 A and AA rules) with the given impacts."""
    if not AXE_SCRIPT.exists():
        pytest.fail(f"{AXE_SCRIPT} is missing: deploy/local/infra.sh up runs npm ci there")
    if page.context in _NO_SCRIPT:
        return _axe_in_scripted_twin(page, impacts)
    return _axe_run(page, impacts)


def _axe_in_scripted_twin(page: Page, impacts: frozenset[str]) -> list[dict[str, Any]]:
    browser = page.context.browser
    assert browser is not None
    html, url = page.content(), page.url
    twin_context = browser.new_context(viewport=page.viewport_size)
    try:
        _guard(twin_context, [])
        twin_context.route(
            lambda candidate: candidate == url,
            lambda route: route.fulfill(
                status=200,
                content_type="text/html; charset=utf-8",
                headers={"content-security-policy": "script-src 'none'"},
                body=html,
            ),
        )
        twin = twin_context.new_page()
        twin.goto(url)
        return _axe_run(twin, impacts)
    finally:
        twin_context.close()


def _axe_run(page: Page, impacts: frozenset[str]) -> list[dict[str, Any]]:
    # Evaluated by the driver, not added as a <script>: the page's CSP stays strict.
    page.evaluate(AXE_SCRIPT.read_text())
    result: dict[str, Any] = page.evaluate(
        """() => axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
            resultTypes: ['violations'],
        })"""
    )
    return [v for v in result["violations"] if v.get("impact") in impacts]


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    if violations:
        lines = [
            f"{v['impact']}: {v['id']} ({v['help']}) at "
            + ", ".join(str(node["target"]) for node in v["nodes"][:5])
            for v in violations
        ]
        raise AssertionError(f"axe-core on {page.url}:\n" + "\n".join(lines))
