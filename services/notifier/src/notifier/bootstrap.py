"""Wiring the notifier: settings -> keys, SMTP, repositories, handlers -> a service app."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import FastAPI
from portal_shared.clock import Clock, utcnow
from portal_shared.retention import Retained
from portal_shared.runtime import Runtime, Wiring, build_service_app, instance_id
from portal_shared.settings import read_secret

from notifier.adapters.deliveries import DeletedAccounts, DeliveryRepository
from notifier.adapters.smtp import SmtpSender, parse_smtp_url
from notifier.context import NotifierContext, install_notifier
from notifier.domain.delivery import FINAL_STATUSES
from notifier.entrypoints import api
from notifier.entrypoints.errors import install_error_handlers
from notifier.handlers import build_registry
from notifier.keys import resolve_identity_public_keys, resolve_private_key
from notifier.service_layer.delivery import Notifier
from notifier.settings import NotifierSettings

DESCRIPTION = """Sends the account emails (verification and reset codes, password changed,
newsletter, "someone tried to register with your address") for the identity service's events,
exactly once per event, and answers operators' questions about a delivery."""


def build_app(
    settings: NotifierSettings, roles: frozenset[str], *, clock: Clock = utcnow
) -> FastAPI:
    async def setup(runtime: Runtime, app: FastAPI) -> Wiring:
        # A random suffix: two replicas in one process (tests) must not share a lease owner.
        owner = f"{instance_id(settings.service_name)}/{uuid.uuid4().hex[:8]}"
        deliveries = DeliveryRepository(
            runtime.db["deliveries"], owner=owner, lease_seconds=settings.send_lease_seconds
        )
        await deliveries.ensure_indexes()
        install_notifier(app, NotifierContext(settings=settings, deliveries=deliveries))
        if "consumer" not in runtime.roles:
            return Wiring()  # the API alone needs neither the key nor SMTP
        return await _consumer_wiring(settings, runtime, deliveries, clock)

    app = build_service_app(
        settings=settings,
        roles=roles,
        title="Notifier",
        description=DESCRIPTION,
        routers=[api.router],
        setup=setup,
        clock=clock,
        openapi_tags=[{"name": "deliveries", "description": "What became of an event's email"}],
    )
    install_error_handlers(app)
    return app


async def _consumer_wiring(
    settings: NotifierSettings, runtime: Runtime, deliveries: DeliveryRepository, clock: Clock
) -> Wiring:
    target = parse_smtp_url(
        settings.smtp_url,
        starttls=settings.smtp_starttls,
        password=read_secret(None, settings.smtp_password_file),
    )
    sender = SmtpSender(
        target, size=settings.send_concurrency, timeout=settings.smtp_timeout_seconds
    )
    deleted_accounts = DeletedAccounts(runtime.db["deleted_accounts"])
    await deleted_accounts.ensure_indexes()
    notifier = Notifier(
        private_key=resolve_private_key(settings),
        identity_public_keys=resolve_identity_public_keys(settings),
        identity=settings.mail_identity,
        deliveries=deliveries,
        deleted_accounts=deleted_accounts,
        sender=sender,
        clock=clock,
        give_up_after=timedelta(seconds=settings.give_up_after_seconds),
        quick_retries=settings.smtp_quick_retries,
        quick_retry_delay_seconds=settings.smtp_quick_retry_delay_ms / 1000,
    )
    settled = {"status": {"$in": sorted(FINAL_STATUSES)}}
    return Wiring(
        registry=build_registry(notifier),
        on_stop=[sender.close],
        retained=[
            Retained(deliveries.collection, "updated_at", settled),
            # a late email for a deleted account can come no later than the redelivery window
            Retained(deleted_accounts.collection, "deleted_at", {}),
        ],
    )
