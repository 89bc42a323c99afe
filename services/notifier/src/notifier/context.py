"""The notifier's one typed container: what its routes need, built once by ``bootstrap`` in
the app's start-up and reached by routes as ``NotifierDep`` (``entrypoints/deps.py``), like
identity's ``Context`` and the catalog's ``CatalogContext``. The operators' API needs only
the delivery records; the consumer's parts (keys, SMTP) are wired by the consumer role."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from notifier.adapters.deliveries import DeliveryRepository
from notifier.settings import NotifierSettings


class NotifierNotWired(RuntimeError):
    """A route ran in an app whose start-up did not build the notifier's container."""


@dataclass(frozen=True)
class NotifierContext:
    settings: NotifierSettings
    deliveries: DeliveryRepository


def install_notifier(app: FastAPI, context: NotifierContext) -> None:
    app.state.notifier = context


def notifier_of(app: FastAPI) -> NotifierContext:
    context = getattr(app.state, "notifier", None)
    if not isinstance(context, NotifierContext):
        raise NotifierNotWired("the notifier's start-up has not run")
    return context
