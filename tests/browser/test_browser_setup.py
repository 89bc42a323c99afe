"""The browser fixtures themselves: axe-core can fail a page, the page's CSP stays in force,
JavaScript can be turned off, and a page cannot reach any host but 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.browser import _guard, assert_accessible, axe_violations

CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'"
PAGES = {
    "/good": """<!doctype html><html lang="en"><head><title>Good</title></head><body>
        <main><h1>Sign in</h1><form method="post"><label for="e">Email</label>
        <input id="e" name="email" type="email"><button>Sign in</button></form></main>
        <script src="/app.js"></script></body></html>""",
    "/bad": """<!doctype html><html lang="en"><head><title>Bad</title></head><body><main>
        <h1>Bad</h1><img src="/x.png"><form><input name="email" type="email"></form>
        </main></body></html>""",
    "/inline": """<!doctype html><html lang="en"><head><title>Inline</title></head><body>
        <main><h1 id="h">untouched</h1></main>
        <script>document.getElementById('h').textContent = 'ran';</script></body></html>""",
    "/third-party": """<!doctype html><html lang="en"><head><title>Third</title>
        <link rel="stylesheet" href="http://cdn.example.org/site.css"></head><body>
        <main><h1>Third</h1></main></body></html>""",
    "/app.js": "document.title = 'scripted';",
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGES.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        kind = "text/javascript" if self.path.endswith(".js") else "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("content-type", kind)
        if self.path != "/third-party":
            self.send_header("content-security-policy", CSP)
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_axe_passes_a_labelled_page_and_fails_an_unlabelled_one(page, site, shots) -> None:
    page.goto(f"{site}/good")
    assert page.title() == "scripted"  # the page's own script ran
    assert_accessible(page)
    shots(page, "good")
    page.goto(f"{site}/bad")
    ids = {v["id"] for v in axe_violations(page)}
    assert {"image-alt", "label"} <= ids
    with pytest.raises(AssertionError, match="image-alt"):
        assert_accessible(page)


def test_the_page_csp_stays_in_force_while_axe_runs(page, site) -> None:
    page.goto(f"{site}/inline")
    assert page.text_content("#h") == "untouched"  # the inline script was refused
    assert_accessible(page)


def test_javascript_off_runs_no_page_script_and_axe_still_checks(browser_context, site) -> None:
    page = browser_context(javascript=False).new_page()
    page.goto(f"{site}/good")
    assert page.title() == "Good"
    assert_accessible(page)
    page.goto(f"{site}/bad")
    assert {"image-alt", "label"} <= {v["id"] for v in axe_violations(page)}


def test_a_request_to_another_host_is_blocked_and_recorded(browser, site) -> None:
    context = browser.new_context()
    blocked: list[str] = []
    _guard(context, blocked)
    page = context.new_page()
    page.goto(f"{site}/third-party")
    context.close()
    assert blocked == ["http://cdn.example.org/site.css"]
