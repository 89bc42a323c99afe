"""The download-link keyring and the nginx secret, through the shared resolver
(``portal_shared.secrets``): from settings, or development values (persisted link keys, the
nginx example's secret). Outside development a missing key stops the start with a clear
message: a key generated per process would make every replica refuse the others' links.
"""

from __future__ import annotations

import base64
import secrets

from portal_shared.secrets import DevSecret, MissingSecret, resolve_secret
from portal_shared.settings import read_secret

from catalog.domain.links import Keyring
from catalog.settings import CatalogSettings


class MissingLinkKeys(MissingSecret):
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
    text = resolve_secret(
        settings,
        settings.link_keys,
        settings.link_keys_file,
        missing="set CATALOG_LINK_KEYS or CATALOG_LINK_KEYS_FILE (kid:base64 of at least 32"
        " random bytes, e.g. `k1:$(openssl rand -base64 32)`)",
        development=DevSecret(settings.dev_link_keys_path, _new_dev_keys),
        error=MissingLinkKeys,
    )
    keys = parse_key_list(text)
    if not keys:
        raise MissingLinkKeys("the configured link key list is empty")
    active = settings.link_active_kid or next(iter(keys))
    try:
        return Keyring.from_base64(active, keys)
    except ValueError as exc:  # the message names key ids, never key material
        raise MissingLinkKeys(f"invalid link keys: {exc}") from exc


# The development default that deploy/nginx/secure_link.conf.example ships with, so that a
# local nginx serves the catalog's links out of the box; production refuses it.
DEV_NGINX_SECRET = "development-only-catalog-secure-link-secret"  # noqa: S105 (dev only)


def resolve_nginx_secret(settings: CatalogSettings) -> str | None:
    configured = read_secret(
        settings.nginx_secret.get_secret_value() if settings.nginx_secret else None,
        settings.nginx_secret_file,
    )
    if settings.link_form != "nginx" and configured is None:
        return None  # links are signed by the catalog itself; nginx never checks them
    return resolve_secret(
        settings,
        settings.nginx_secret,
        settings.nginx_secret_file,
        missing="CATALOG_LINK_FORM=nginx needs CATALOG_NGINX_SECRET(_FILE)",
        development=DevSecret(fixed=DEV_NGINX_SECRET),
        error=MissingLinkKeys,
    )


def _new_dev_keys() -> str:
    return f"dev1:{base64.b64encode(secrets.token_bytes(32)).decode()}"
