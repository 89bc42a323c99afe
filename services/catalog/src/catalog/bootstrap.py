"""Where the catalog is wired: repositories on the service's database, keys, verifier, routes.

``build_app(settings, roles)`` is what the CLI serves; tests pass a ``clock`` and a
``verifier`` of their own. Keys are resolved before the app is made and the one typed
container (``catalog.context.CatalogContext``) in the start-up, so a missing part stops the
service at once rather than at the first download.
"""

from __future__ import annotations

from fastapi import FastAPI
from portal_shared.access import TokenAccess, build_verifier, install_token_access
from portal_shared.auth import AccessTokenVerifier
from portal_shared.clock import Clock, utcnow
from portal_shared.pages import Pages
from portal_shared.runtime import Runtime, Wiring, build_service_app

from catalog.adapters.downloads import DownloadRepository
from catalog.adapters.storage import LocalMediaStorage
from catalog.adapters.transcripts import TranscriptSegments
from catalog.adapters.users import LinkQuota, VerifiedUsers
from catalog.adapters.videos import VideoRepository
from catalog.context import CatalogContext, install_catalog
from catalog.entrypoints.api import DESCRIPTION, OPENAPI_TAGS, ROUTERS, TITLE
from catalog.entrypoints.errors import install_error_handlers
from catalog.entrypoints.texts import TEXTS
from catalog.handlers import build_registry
from catalog.keys import resolve_keyring, resolve_nginx_secret
from catalog.service_layer.downloads import Downloads
from catalog.service_layer.editing import Editing
from catalog.service_layer.events import CatalogEvents
from catalog.settings import CatalogSettings

VIDEOS, USERS, DOWNLOADS = "videos", "verified_users", "downloads"
PREVIOUS_QUOTA = "link_quota"  # the quota before session 3, read until moved (LinkQuota)
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
        records = DownloadRepository(runtime.db[DOWNLOADS], lambda: runtime.relay)
        segments = TranscriptSegments(runtime.db[SEGMENTS])
        for repository in (videos, records, segments):
            await repository.ensure_indexes()
        wiring = Wiring(
            registry=build_registry(CatalogEvents(users, videos, segments)),
            outbox=[runtime.db[VIDEOS], runtime.db[DOWNLOADS]],
            retained=[records.retained],
        )
        access = TokenAccess(
            verifier=verifier or build_verifier(settings, clock, wiring.on_stop),
            revocations=users,
            editor_role=settings.editor_role,
        )
        downloads = Downloads(
            videos=videos,
            users=users,
            # The quota lives in the projection documents (the previous version's read once).
            quota=LinkQuota(runtime.db[USERS], runtime.db[PREVIOUS_QUOTA]),
            records=records,
            storage=LocalMediaStorage(settings.media_root),
            keyring=keyring,
            settings=settings,
            clock=clock,
            nudge=runtime.nudge_outbox,
            nginx_secret=nginx_secret,
        )
        pages = Pages(
            "catalog", TEXTS, settings.account_pages_url, settings.video_pages_url, "/videos/static"
        )
        context = CatalogContext(
            settings=settings,
            videos=videos,
            segments=segments,
            editing=Editing(videos, clock, runtime.nudge_outbox),
            downloads=downloads,
            access=access,
            pages=pages,
        )
        install_token_access(app, access)
        install_catalog(app, context)
        return wiring

    app = build_service_app(
        settings=settings,
        roles=roles,
        title=TITLE,
        description=DESCRIPTION,
        routers=ROUTERS,
        setup=setup,
        clock=clock,
        openapi_tags=OPENAPI_TAGS,
    )
    install_error_handlers(app)
    return app
