"""The catalog's one typed container: everything routes and use cases need, built once by
``bootstrap`` in the app's start-up and reached by routes as ``CatalogDep``
(``entrypoints/deps.py``), like identity's ``Context``/``ContextDep``. A part that is missing
(a key, the nginx secret when links are nginx links, the token revocations) stops the start."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from portal_shared.access import TokenAccess
from portal_shared.pages import Pages

from catalog.adapters.transcripts import TranscriptSegments
from catalog.adapters.videos import VideoRepository
from catalog.service_layer.downloads import Downloads
from catalog.service_layer.editing import Editing
from catalog.settings import CatalogSettings


class CatalogNotWired(RuntimeError):
    """A route ran in an app whose start-up did not build the catalog's container."""


@dataclass(frozen=True)
class CatalogContext:
    settings: CatalogSettings
    videos: VideoRepository
    segments: TranscriptSegments
    editing: Editing
    downloads: Downloads
    access: TokenAccess
    pages: Pages

    def __post_init__(self) -> None:
        if self.settings.link_form == "nginx" and not self.downloads.nginx_secret:
            raise CatalogNotWired("CATALOG_LINK_FORM=nginx needs the nginx secure_link secret")


def install_catalog(app: FastAPI, context: CatalogContext) -> None:
    app.state.catalog = context


def catalog_of(app: FastAPI) -> CatalogContext:
    context = getattr(app.state, "catalog", None)
    if not isinstance(context, CatalogContext):
        raise CatalogNotWired("the catalog's start-up has not run")
    return context
