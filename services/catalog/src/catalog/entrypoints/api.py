"""The catalog's HTTP API: one router per noun."""

from __future__ import annotations

from typing import Any

from catalog.entrypoints.routers import downloads, editor, pages, videos

ROUTERS = (videos.router, editor.router, downloads.router, pages.router)  # pages: HTML
OPENAPI_TAGS: list[dict[str, Any]] = [
    {"name": "videos", "description": "The public catalogue: search, pages, JSON-LD."},
    {"name": "editor", "description": "Editors create, change and publish videos."},
    {"name": "downloads", "description": "Signed download links for verified accounts."},
]
TITLE = "Catalog service"
DESCRIPTION = (
    "Videos of the portal with their renditions (EBUCore technical metadata), public search, "
    "schema.org JSON-LD, and signed download links for verified accounts."
)
