"""``identity [api|consumer|relay|all]``, ``identity create-editor`` and
``identity sealing-public-key``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from portal_shared.cli import service_main
from portal_shared.logging import configure_logging
from portal_shared.mongo import create_client, open_database

from identity import bootstrap
from identity.adapters.keys import MissingSecret, resolve_sealing_key, resolve_secrets
from identity.domain.errors import DomainError, PasswordRejected
from identity.service_layer.editors import create_editor
from identity.settings import IdentitySettings, load_settings


def _configure_create_editor(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--email", required=True, help="the editor's address")
    parser.add_argument(
        "--password-file",
        type=Path,
        help="password file, - for stdin (else prompted; an existing account may keep its own)",
    )
    parser.add_argument("--language", choices=["en", "fr"], default="en")
    parser.add_argument(
        "--keep-password",
        action="store_true",
        help="promote an existing account without asking for a password",
    )


def _read_password(args: argparse.Namespace) -> str | None:
    if args.password_file:
        path = cast(Path, args.password_file)
        text = sys.stdin.read() if str(path) == "-" else path.read_text()
        return text.rstrip("\n")
    if args.keep_password:
        return None
    first = getpass.getpass("Password for the editor: ")
    if first != getpass.getpass("Same password again: "):
        raise SystemExit("the two passwords differ")
    return first


async def _create_editor(settings: IdentitySettings, args: argparse.Namespace) -> int:
    password = _read_password(args)
    client = create_client(settings)
    try:
        ctx = await bootstrap.build_context(
            settings, await open_database(client, settings), resolve_secrets(settings)
        )
        user_id, created = await create_editor(ctx, args.email, password, args.language)
    except PasswordRejected as exc:
        print(f"password rejected: {', '.join(exc.violations)}", file=sys.stderr)
        return 2
    except (DomainError, ValueError) as exc:
        print(f"cannot create the editor: {exc}", file=sys.stderr)
        return 2
    finally:
        await client.close()
    # The running service's outbox relay publishes UserVerified (with the editor role).
    print(f"{'created' if created else 'promoted'} editor {user_id}")
    return 0


def _create_editor_command(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging(settings.service_name, settings.log_level, stream=sys.stderr)
    return asyncio.run(_create_editor(settings, args))


def _print_sealing_public_key(_args: argparse.Namespace) -> int:
    """Print the public key the notifier must accept (configured or development key)."""
    from portal_shared.sealing import public_key_of

    settings = load_settings()
    configure_logging(settings.service_name, "warning", stream=sys.stderr)  # stdout: the key
    try:
        sealing_key = resolve_sealing_key(settings)
    except MissingSecret as exc:
        print(f"identity: {exc}", file=sys.stderr)
        return 1
    print(public_key_of(sealing_key))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return service_main(
        argv,
        name="identity",
        load_settings=load_settings,
        build_app=lambda settings, roles: bootstrap.build_app(
            cast(IdentitySettings, settings), roles
        ),
        extra={
            "create-editor": (
                "create (or promote to) a verified editor account",
                _configure_create_editor,
                _create_editor_command,
            ),
            "sealing-public-key": (
                "print the public key of identity's sealing key (for the notifier)",
                lambda _parser: None,
                _print_sealing_public_key,
            ),
        },
    )


if __name__ == "__main__":
    raise SystemExit(main())
