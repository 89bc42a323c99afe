"""End to end over the bus: a transcript ingested here names the speakers the catalog finds.

Both services run in-process on the test's exchange, each with its own database; they share
nothing but events. The seed transcript is loaded the way ``transcript load-demo`` does it
(service layer, no HTTP) for the catalog's demo panel video.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aio_pika
import pytest
from catalog.context import catalog_of
from transcript.entrypoints.cli import DEMO_PANEL_VIDEO_ID
from transcript.service_layer.demo import load_demo_transcript

from tests.integration.transcript.conftest import SEED, ServiceFactory
from tests.support.infra import AMQP_URL, MONGODB_URL, eventually, unique
from tests.support.service import running

pytestmark = pytest.mark.integration
catalog_bootstrap = pytest.importorskip("catalog.bootstrap")
catalog_demo = pytest.importorskip("catalog.domain.demo")


def test_demo_video_id_is_the_catalogs_panel() -> None:
    panel = next(v for v in catalog_demo.demo_videos() if v.slug.startswith("msc-2026-panel"))
    assert panel.id == DEMO_PANEL_VIDEO_ID


async def test_ingested_speakers_become_searchable_in_the_catalog(
    start_transcript: ServiceFactory,
    exchange_name: str,
    mongo_client: Any,
    amqp: aio_pika.abc.AbstractRobustConnection,
    tmp_path: Path,
) -> None:
    from catalog.adapters.storage import LocalMediaStorage
    from catalog.service_layer.demo import load_demo
    from catalog.settings import CatalogSettings
    from portal_shared.clock import utcnow

    transcripts = await start_transcript()
    settings = CatalogSettings(
        service_name=unique("catalog"),
        mongodb_url=MONGODB_URL,
        amqp_url=AMQP_URL,
        amqp_exchange=exchange_name,
        retry_delays_ms=[50, 100],
        data_dir=tmp_path / "catalog",
        environment="test",
        jwks_json='{"keys": []}',
    )
    app = catalog_bootstrap.build_app(settings, frozenset({"api", "consumer", "relay"}))
    try:
        async with running(app) as catalog:
            await load_demo(catalog_of(app).videos, LocalMediaStorage(settings.media_root), utcnow)

            async def by_speaker(name: str) -> list[str]:
                response = await catalog.get("/v1/videos", params={"speaker": name})
                assert response.status_code == 200, response.text
                return [item["id"] for item in response.json()["items"]]

            # The panel's own credits already name Mark Rutte; a video crediting only Jens
            # Stoltenberg shows that the speakers come from the transcript.
            other = next(
                v.id for v in catalog_demo.demo_videos() if v.slug.startswith("washington-summit")
            )
            assert other not in await by_speaker("Mark Rutte")
            for video_id in (DEMO_PANEL_VIDEO_ID, other):
                result = await load_demo_transcript(
                    transcripts.settings, SEED.read_bytes(), video_id, "en"
                )
                assert result.created and result.revision == 1
            transcripts.app.state.runtime.nudge_outbox()
            await eventually(
                lambda: by_speaker("Mark Rutte"),
                lambda ids: other in ids and DEMO_PANEL_VIDEO_ID in ids,
                what="catalog knows the transcript's speakers",
            )
            again = await load_demo_transcript(
                transcripts.settings, SEED.read_bytes(), DEMO_PANEL_VIDEO_ID, "en"
            )
            assert not again.created and again.revision == 1
    finally:
        await mongo_client.drop_database(settings.service_name)
        async with amqp.channel() as channel:
            for suffix in ("events", "parking", "delay.50ms", "delay.100ms"):
                await channel.queue_delete(f"{settings.service_name}.{suffix}")
            await channel.exchange_delete(f"{settings.service_name}.retry")
