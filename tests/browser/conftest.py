"""Browser tests: Playwright driving Debian's Chromium (see tests/support/browser.py)."""

from tests.support.browser import browser, browser_context, page, playwright, shots  # noqa: F401
