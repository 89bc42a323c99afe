"""What routes need, as ``Annotated`` dependencies: the catalog's one typed container
(``CatalogContext``) and its parts.

They are ``async def`` although they do not await: FastAPI runs a plain ``def`` dependency in
its thread pool, and that hop (a worker thread woken per request) was about 15 % of a
download link's time in the catalog's profile under 50 clients.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from catalog.adapters.videos import VideoRepository
from catalog.context import CatalogContext, catalog_of
from catalog.service_layer.downloads import Downloads
from catalog.service_layer.editing import Editing
from catalog.settings import CatalogSettings


async def _catalog(request: Request) -> CatalogContext:
    return catalog_of(request.app)


CatalogDep = Annotated[CatalogContext, Depends(_catalog)]


# Each part straight from the request, not through ``CatalogDep``: one dependency fewer for
# FastAPI to solve on every request (a download link solves six).
async def _settings(request: Request) -> CatalogSettings:
    return catalog_of(request.app).settings


async def _videos(request: Request) -> VideoRepository:
    return catalog_of(request.app).videos


async def _downloads(request: Request) -> Downloads:
    return catalog_of(request.app).downloads


async def _editing(request: Request) -> Editing:
    return catalog_of(request.app).editing


SettingsDep = Annotated[CatalogSettings, Depends(_settings)]
VideosDep = Annotated[VideoRepository, Depends(_videos)]
DownloadsDep = Annotated[Downloads, Depends(_downloads)]
EditingDep = Annotated[Editing, Depends(_editing)]
