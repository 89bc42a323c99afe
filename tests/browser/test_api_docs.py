"""Each service's /docs renders in a browser with the outside network off: Swagger UI's
script, styles and favicon come from the service itself, every operation of the OpenAPI
document is listed, and the page asks no host but 127.0.0.1 (the guarded context fails the
test otherwise)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.e2e.conftest import Platform
from tests.support.browser import GuardedContext

pytestmark = pytest.mark.e2e

SERVICES = ("identity", "notifier", "catalog", "transcript")
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


@pytest.mark.parametrize("service", SERVICES)
def test_docs_list_every_operation_offline(
    platform: Platform, browser_context: Callable[..., GuardedContext], service: str
) -> None:
    base = platform.url(service)
    schema = httpx.get(f"{base}/openapi.json", timeout=10).json()
    expected = {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in METHODS
    }
    assert expected

    guarded = browser_context()
    page = guarded.new_page()
    assets: list[str] = []
    page.on("response", lambda r: assets.append(r.url) if r.ok else None)
    page.goto(f"{base}/docs")
    page.wait_for_selector(".opblock-summary", timeout=30_000)
    shown = {
        (
            row.locator(".opblock-summary-method").inner_text().strip().upper(),
            row.locator(".opblock-summary-path").get_attribute("data-path"),
        )
        for row in page.locator(".opblock-summary").all()
    }
    assert shown == expected
    assert page.title() == f"{schema['info']['title']} - API docs"
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
        assert f"{base}/docs/assets/{asset}" in assets, asset
    assert guarded.blocked == []
