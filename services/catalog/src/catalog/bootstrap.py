"""Where the catalog is wired: repositories on the service's database, keys, verifier, routes.

``build_app(settings, roles)`` is what the CLI serves; tests pass a ``clock`` and a
``verifier`` of their own.
"""

from __future__ import annotations

from fastapi import FastAPI
from portal_shared.access import TokenAccess, build_verifier, install_token_access
from portal_shared.auth import AccessTokenVerifier
from portal_shared.clock import Clock, utcnow
from portal_shared.runtime import Runtime, Wiring, build_service_app

from catalog.adapters.downloads import DownloadRepository
from catalog.adapters.storage import LocalMediaStorage
from catalog.adapters.transcripts import TranscriptSegments
from catalog.adapters.users import LinkQuota, VerifiedUsers
from catalog.adapters.videos import VideoRepository
from catalog.entrypoints.api import DESCRIPTION, OPENAPI_TAGS, ROUTERS, TITLE
from catalog.handlers import build_registry
from catalog.keys import resolve_keyring, resolve_nginx_secret
from catalog.service_layer.downloads import Downloads
from catalog.service_layer.editing import Editing
from catalog.settings import CatalogSettings

VIDEOS, USERS, QUOTA, DOWNLOADS = "videos", "verified_users", "link_quota", "downloads"
SEGMENTS = "transcript_segments"


def build_app(
    settings: CatalogSettings,
    roles: frozenset[str],
    *,
    clock: Clock = utcnow,
    verifier: AccessTokenVerifier | None = None,
) -> FastAPI:
    # Fail at start-up, not at the first download, when keys are missing or invalid.
    keyring = resolve_keyring(settings)
    nginx_secret = resolve_nginx_secret(settings)

    async def setup(runtime: Runtime, app: FastAPI) -> Wiring:
        videos = VideoRepository(runtime.db[VIDEOS])
        users = VerifiedUsers(runtime.db[USERS])
        records = DownloadRepository(runtime.db[DOWNLOADS])
        segments = TranscriptSegments(runtime.db[SEGMENTS])
        for repository in (videos, records, segments):
            await repository.ensure_indexes()
        wiring = Wiring(
            registry=build_registry(users, videos, segments),
            outbox=[runtime.db[VIDEOS], runtime.db[DOWNLOADS]],
            retained=[records.retained],
        )
        app.state.settings = settings
        app.state.videos = videos
        app.state.transcript_segments = segments
        checker = verifier or build_verifier(settings, clock, wiring.on_stop)
        install_token_access(app, TokenAccess(checker, users, settings.editor_role))
        app.state.editing = Editing(videos, clock, runtime.nudge_outbox)
        app.state.downloads = Downloads(
            videos=videos,
            users=users,
            quota=LinkQuota(runtime.db[QUOTA]),
            records=records,
            storage=LocalMediaStorage(settings.media_root),
            keyring=keyring,
            settings=settings,
            clock=clock,
            nudge=runtime.nudge_outbox,
            nginx_secret=nginx_secret,
        )
        return wiring

    return build_service_app(
        settings=settings,
        roles=roles,
        title=TITLE,
        description=DESCRIPTION,
        routers=ROUTERS,
        setup=setup,
        clock=clock,
        openapi_tags=OPENAPI_TAGS,
    )
