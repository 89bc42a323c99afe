"""API docs that render offline: Swagger UI served by the service itself.

FastAPI's default ``/docs`` and ``/redoc`` pages load their scripts and styles from a CDN and
their favicon from FastAPI's site, which an offline or air-gapped network cannot reach (the
page stays blank) and which a portal should not call. Following FastAPI's self-hosting
recipe, ``/docs`` is Swagger UI from the pinned ``swagger-ui-bundle-v2`` package (Swagger UI
5, which reads OpenAPI 3.1), its assets under ``/docs/assets``; ReDoc is not served.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"


def install_docs(app: FastAPI) -> None:
    """``/docs`` and its assets on ``app`` (created with ``docs_url=None, redoc_url=None``)."""
    app.mount(ASSETS_PATH, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get(DOCS_PATH, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API docs",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
            oauth2_redirect_url=None,
        )
