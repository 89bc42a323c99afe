"""What routes need, as ``Annotated`` dependencies reaching into ``request.app.state``.

They are ``async def`` although they do not await: FastAPI runs a plain ``def`` dependency in
its thread pool, and that hop (a worker thread woken per request) was about 15 % of a
download link's time in the catalog's profile under 50 clients.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from catalog.adapters.videos import VideoRepository
from catalog.service_layer.downloads import Downloads
from catalog.service_layer.editing import Editing
from catalog.settings import CatalogSettings


async def _settings(request: Request) -> CatalogSettings:
    settings: CatalogSettings = request.app.state.settings
    return settings


async def _videos(request: Request) -> VideoRepository:
    videos: VideoRepository = request.app.state.videos
    return videos


async def _downloads(request: Request) -> Downloads:
    downloads: Downloads = request.app.state.downloads
    return downloads


async def _editing(request: Request) -> Editing:
    editing: Editing = request.app.state.editing
    return editing


SettingsDep = Annotated[CatalogSettings, Depends(_settings)]
VideosDep = Annotated[VideoRepository, Depends(_videos)]
DownloadsDep = Annotated[Downloads, Depends(_downloads)]
EditingDep = Annotated[Editing, Depends(_editing)]
