"""The command line every service shares: ``<service> [api|consumer|relay|all] ...``.

One console command per service; the role is a subcommand, so Kubernetes can run each role as
its own Deployment (``identity api``, ``identity consumer``, ``identity relay``) while
``make run`` runs ``<service> all`` (every role in one process). Services add their own
subcommands (``identity create-editor``, ``transcript parse``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from portal_shared.logging import configure_logging
from portal_shared.runtime import ROLES, parse_roles, serve
from portal_shared.settings import ServiceSettings

Command = Callable[[argparse.Namespace], int | None]


def service_main(
    argv: Sequence[str] | None,
    *,
    name: str,
    load_settings: Callable[[], ServiceSettings],
    build_app: Callable[[ServiceSettings, frozenset[str]], Any],
    extra: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Command]] | None = None,
) -> int:
    parser = argparse.ArgumentParser(prog=name, description=f"The {name} service.")
    commands = parser.add_subparsers(dest="command", required=True)
    for role in (*ROLES, "all"):
        sub = commands.add_parser(
            role, help=f"run the {role} role" if role != "all" else "run every role in one process"
        )
        sub.add_argument("--port", type=int, help="HTTP port (default from settings)")
    handlers: dict[str, Command] = {}
    for command, (help_text, configure, handler) in (extra or {}).items():
        configure(commands.add_parser(command, help=help_text))
        handlers[command] = handler
    args = parser.parse_args(argv)
    if args.command in handlers:
        return handlers[args.command](args) or 0
    settings = load_settings()
    configure_logging(settings.service_name, settings.log_level)  # before wiring logs anything
    if args.port:
        settings = settings.model_copy(update={"http_port": args.port})
    serve(build_app(settings, parse_roles(args.command)), settings)
    return 0
