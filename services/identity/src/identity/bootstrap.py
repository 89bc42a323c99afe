"""Wiring the identity service: settings and secrets in, a FastAPI app (or a bare context) out.

``build_app`` is what the CLI serves; ``setup`` runs in the app's lifespan: it makes the
repositories on the service's database, ensures their indexes, builds the flows' ``Context``
(``app.state.identity``), hands the account, registration and reset attempt collections to
the outbox relay and, in the relay role, starts the registration worker.
"""

from __future__ import annotations

import gc
from typing import Any

from fastapi import FastAPI
from portal_shared.clock import Clock, utcnow
from portal_shared.runtime import Runtime, Wiring, build_service_app
from pymongo.asynchronous.database import AsyncDatabase

from identity.adapters.accounts import AccountRepository
from identity.adapters.hashing_pool import HashingPool
from identity.adapters.keys import IdentitySecrets, resolve_secrets
from identity.adapters.rate_limits import RateLimitStore
from identity.adapters.registrations import RegistrationRepository
from identity.adapters.reset_attempts import ResetAttemptRepository
from identity.adapters.sessions import RefreshStore, ResetTokenStore
from identity.domain.hashing import PasswordHasher
from identity.entrypoints.api import DESCRIPTION, OPENAPI_TAGS, ROUTERS, TITLE
from identity.entrypoints.errors import install_error_handlers
from identity.entrypoints.worker import RegistrationWorker
from identity.service_layer.context import Context, Nudge
from identity.settings import IdentitySettings

Document = dict[str, Any]


async def build_context(
    settings: IdentitySettings,
    db: AsyncDatabase[Document],
    secrets: IdentitySecrets,
    *,
    clock: Clock = utcnow,
    nudge: Nudge = lambda collection=None: None,
) -> Context:
    """Repositories with their indexes, and a hasher warmed up for unknown-address sign-ins."""
    accounts = AccountRepository(db["accounts"])
    registrations = RegistrationRepository(db["registrations"])
    reset_attempts = ResetAttemptRepository(db["reset_attempts"])
    rate_limits = RateLimitStore(db["rate_limits"])
    refresh = RefreshStore(db["refresh_families"], db["refresh_tokens"])
    resets = ResetTokenStore(db["reset_tokens"])
    for repository in (accounts, registrations, reset_attempts, rate_limits, refresh, resets):
        await repository.ensure_indexes()
    hasher = PasswordHasher(settings.argon2_settings())
    hashing = HashingPool.for_this_machine(settings.hashing_threads, settings.hashing_niceness)
    await hashing.run(hasher.dummy_hash)
    return Context(
        settings=settings,
        accounts=accounts,
        registrations=registrations,
        reset_attempts=reset_attempts,
        rate_limits=rate_limits,
        refresh=refresh,
        resets=resets,
        hasher=hasher,
        hashing=hashing,
        secrets=secrets,
        clock=clock,
        nudge=nudge,
    )


def freeze_startup_objects() -> None:
    """What start-up built (modules, the app and its schemas, templates, settings, the
    context) lives as long as the process: move it out of the collector's generations, so a
    full collection under load walks only what requests made since, not those ~10^5 objects
    too (a full collection stopped the event loop for ~30 ms on this machine, docs/
    PERFORMANCE.md, "registration", session 3)."""
    gc.collect()
    gc.freeze()


def build_app(
    settings: IdentitySettings,
    roles: frozenset[str],
    *,
    clock: Clock = utcnow,
    secrets: IdentitySecrets | None = None,
) -> FastAPI:
    """The service's app; secrets are resolved now so a missing one stops the start at once."""
    resolved = secrets or resolve_secrets(settings)

    async def setup(runtime: Runtime, app: FastAPI) -> Wiring:
        context = await build_context(
            settings, runtime.db, resolved, clock=runtime.clock, nudge=runtime.nudge_outbox
        )
        app.state.identity = context
        wiring = Wiring(
            outbox=[
                context.accounts.collection,
                context.registrations.collection,
                context.reset_attempts.collection,
            ],
            retained=[context.rate_limits.retained],
        )
        wiring.on_stop.append(context.hashing.close)
        if "relay" in runtime.roles:
            worker = RegistrationWorker(context, settings.outbox_poll_seconds)
            context.wake_worker = worker.nudge
            await worker.start()
            wiring.on_stop.append(worker.stop)
        freeze_startup_objects()
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
