"""What routes need, as ``Annotated`` dependencies reaching into ``request.app.state``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from catalog.adapters.videos import VideoRepository
from catalog.service_layer.downloads import Downloads
from catalog.service_layer.editing import Editing
from catalog.settings import CatalogSettings


def _settings(request: Request) -> CatalogSettings:
    settings: CatalogSettings = request.app.state.settings
    return settings


def _videos(request: Request) -> VideoRepository:
    videos: VideoRepository = request.app.state.videos
    return videos


def _downloads(request: Request) -> Downloads:
    downloads: Downloads = request.app.state.downloads
    return downloads


def _editing(request: Request) -> Editing:
    editing: Editing = request.app.state.editing
    return editing


SettingsDep = Annotated[CatalogSettings, Depends(_settings)]
VideosDep = Annotated[VideoRepository, Depends(_videos)]
DownloadsDep = Annotated[Downloads, Depends(_downloads)]
EditingDep = Annotated[Editing, Depends(_editing)]
