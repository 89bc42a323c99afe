"""Suite-wide collection order.

Playwright's sync API drives its own event loop in the main thread, and a test run after a
browser test could find that loop still marked as running (pytest-asyncio then refuses to
start its session loop: "Runner.run() cannot be called from a running event loop"). So every
test that uses the browser runs after all the others.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def uses_browser(item: pytest.Item) -> bool:
        return "playwright" in getattr(item, "fixturenames", ())

    items.sort(key=uses_browser)  # stable: the relative order of each group is kept
