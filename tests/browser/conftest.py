"""Browser tests: Playwright driving Debian's Chromium (see tests/support/browser.py), against
the four services as processes (one platform for this folder, as tests/e2e starts it)."""

from tests.e2e.conftest import platform  # noqa: F401
from tests.support.browser import browser, browser_context, page, playwright, shots  # noqa: F401
