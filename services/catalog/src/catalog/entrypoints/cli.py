"""``catalog all|api|consumer|relay [--port N]`` and ``catalog load-demo``."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

from portal_shared.cli import service_main
from portal_shared.clock import utcnow
from portal_shared.logging import configure_logging, get_logger
from portal_shared.mongo import create_client, database

from catalog import bootstrap
from catalog.adapters.storage import LocalMediaStorage
from catalog.adapters.videos import VideoRepository
from catalog.service_layer.demo import DemoReport, load_demo
from catalog.settings import CatalogSettings, load_settings

log = get_logger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    return service_main(
        argv,
        name="catalog",
        load_settings=load_settings,
        build_app=lambda settings, roles: bootstrap.build_app(_catalog(settings), roles),
        extra={
            "load-demo": (
                "insert the demo videos (published) and write their media files",
                lambda _parser: None,
                _load_demo_command,
            )
        },
    )


def _catalog(settings: object) -> CatalogSettings:
    assert isinstance(settings, CatalogSettings)
    return settings


def _load_demo_command(_args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.service_name, settings.log_level)
    report = asyncio.run(_load_demo(settings))
    log.info("demo_loaded", **report.__dict__)
    print(
        f"demo catalogue: {report.inserted} inserted, {report.republished} republished, "
        f"{report.unchanged} already there; {report.files_written} media files written"
    )
    return 0


async def _load_demo(settings: CatalogSettings) -> DemoReport:
    client = create_client(settings)
    try:
        videos = VideoRepository(database(client, settings)[bootstrap.VIDEOS])
        await videos.ensure_indexes()
        return await load_demo(videos, LocalMediaStorage(settings.media_root), utcnow)
    finally:
        await client.close()
