"""The ``notifier`` command: ``notifier api|consumer|relay|all`` and ``notifier public-key``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from portal_shared.cli import service_main
from portal_shared.settings import ServiceSettings


def _load_settings() -> ServiceSettings:
    from notifier.settings import load_settings

    return load_settings()


def _build_app(settings: ServiceSettings, roles: frozenset[str]) -> object:
    from notifier import bootstrap
    from notifier.settings import NotifierSettings

    assert isinstance(settings, NotifierSettings)
    return bootstrap.build_app(settings, roles)


def _print_public_key(_args: argparse.Namespace) -> int:
    """Print the public key the identity service seals with (configured or dev key)."""
    from portal_shared.logging import configure_logging
    from portal_shared.sealing import public_key_of

    from notifier.keys import MissingPrivateKey, resolve_private_key
    from notifier.settings import load_settings

    configure_logging("notifier", "warning", stream=sys.stderr)  # stdout is the key alone
    try:
        private_key = resolve_private_key(load_settings())
    except MissingPrivateKey as exc:
        print(f"notifier: {exc}", file=sys.stderr)
        return 1
    print(public_key_of(private_key))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return service_main(
        argv,
        name="notifier",
        load_settings=_load_settings,
        build_app=_build_app,
        extra={
            "public-key": (
                "print the public key matching the notifier's private key",
                lambda _parser: None,
                _print_public_key,
            )
        },
    )


if __name__ == "__main__":
    raise SystemExit(main())
