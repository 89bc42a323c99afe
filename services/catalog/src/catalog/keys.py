"""The download-link keyring and the nginx secret: from settings, or persisted dev values.

Outside development a missing key is a deployment error and start-up fails with a clear
message: a key generated per process would make every replica refuse the others' links.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from portal_shared.logging import get_logger
from portal_shared.settings import read_secret

from catalog.domain.links import Keyring
from catalog.settings import CatalogSettings

log = get_logger(__name__)


class MissingLinkKeys(RuntimeError):
    """No link keys are configured (or they are invalid) and this is not development."""


def parse_key_list(text: str) -> dict[str, str]:
    """``"k1:base64,k2:base64"`` (commas or newlines) -> ``{"k1": "base64", ...}``."""
    keys: dict[str, str] = {}
    for part in text.replace("\n", ",").split(","):
        if not part.strip():
            continue
        kid, sep, material = part.strip().partition(":")
        if not sep or not kid or not material:
            raise MissingLinkKeys("link keys must be written kid:base64, separated by commas")
        keys[kid.strip()] = material.strip()
    return keys


def resolve_keyring(settings: CatalogSettings) -> Keyring:
    configured = read_secret(
        settings.link_keys.get_secret_value() if settings.link_keys else None,
        settings.link_keys_file,
    )
    if configured:
        text = configured
    elif settings.is_development:
        text = _dev_keys(settings.dev_link_keys_path)
    else:
        raise MissingLinkKeys(
            "set CATALOG_LINK_KEYS or CATALOG_LINK_KEYS_FILE (kid:base64 of at least 32 random"
            " bytes, e.g. `k1:$(openssl rand -base64 32)`)"
        )
    keys = parse_key_list(text)
    if not keys:
        raise MissingLinkKeys("the configured link key list is empty")
    active = settings.link_active_kid or next(iter(keys))
    try:
        return Keyring.from_base64(active, keys)
    except ValueError as exc:  # the message names key ids, never key material
        raise MissingLinkKeys(f"invalid link keys: {exc}") from exc


DEV_NGINX_SECRET = "development-only-catalog-secure-link-secret"  # noqa: S105 (dev only)


def resolve_nginx_secret(settings: CatalogSettings) -> str | None:
    secret = read_secret(
        settings.nginx_secret.get_secret_value() if settings.nginx_secret else None,
        settings.nginx_secret_file,
    )
    if secret is None and settings.link_form == "nginx" and settings.is_development:
        # The development default that deploy/nginx/secure_link.conf.example ships with, so
        # that a local nginx serves the catalog's links out of the box; production refuses it.
        return DEV_NGINX_SECRET
    if settings.link_form == "nginx" and not secret:
        raise MissingLinkKeys("CATALOG_LINK_FORM=nginx needs CATALOG_NGINX_SECRET(_FILE)")
    if secret == DEV_NGINX_SECRET and not settings.is_development:
        raise MissingLinkKeys("the development nginx secret is refused outside development")
    return secret


def _dev_keys(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    material = base64.b64encode(secrets.token_bytes(32)).decode()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside then linked into place: two processes starting at once share one key.
    draft = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(f"dev1:{material}\n")
    try:
        os.link(draft, path)
    except FileExistsError:
        return path.read_text().strip()
    finally:
        draft.unlink()
    log.warning("dev_link_key_created", path=str(path), kid="dev1")
    return path.read_text().strip()
