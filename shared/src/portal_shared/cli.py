"""The command line every service shares: ``<service> [api|consumer|relay|all] ...``.

One console command per service; the role is a subcommand, so Kubernetes can run each role as
its own Deployment (``identity api``, ``identity consumer``, ``identity relay``) while
``make run`` runs ``<service> all`` (every role in one process). Services add their own
subcommands (``identity create-editor``, ``transcript parse``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from portal_shared.bus import Bus
from portal_shared.bus.parking import list_parked, replay_parked
from portal_shared.cli_args import OPS_HELP, PARKED_HELP, configure_ops, configure_parked
from portal_shared.clock import utcnow
from portal_shared.logging import configure_logging
from portal_shared.mongo import create_client, open_database
from portal_shared.ops import (
    outbox_collections,
    outbox_status,
    queue_status,
    render_status,
    status_document,
)
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
    configure_parked(commands.add_parser("parked", help=PARKED_HELP))
    configure_ops(commands.add_parser("ops", help=OPS_HELP))
    handlers: dict[str, Command] = {}
    for command, (help_text, configure, handler) in (extra or {}).items():
        configure(commands.add_parser(command, help=help_text))
        handlers[command] = handler
    args = parser.parse_args(argv)
    if args.command in handlers:
        return handlers[args.command](args) or 0
    settings = load_settings()
    if args.command in {"parked", "ops"}:
        return run_operator_command(settings, args)
    configure_logging(settings.service_name, settings.log_level)  # before wiring logs anything
    if args.port:
        settings = settings.model_copy(update={"http_port": args.port})
    serve(build_app(settings, parse_roles(args.command)), settings)
    return 0


def run_operator_command(settings: ServiceSettings, args: argparse.Namespace) -> int:
    """`parked ...` or `ops ...`; logs go to stderr so stdout stays the command's output."""
    configure_logging(settings.service_name, settings.log_level, stream=sys.stderr)
    if args.command == "parked":
        return asyncio.run(_parked(settings, args))
    return asyncio.run(_ops_status(settings, args.json))


async def _parked(settings: ServiceSettings, args: argparse.Namespace) -> int:
    """`<service> parked list` prints one JSON object per parked message on stdout."""
    bus = Bus(
        settings.amqp_url,
        settings.amqp_exchange,
        settings.service_name,
        queue_prefix=settings.amqp_queue_prefix,
    )
    await bus.connect()
    try:
        if args.action == "list":
            for message in await list_parked(bus, args.limit):
                print(json.dumps(message.as_dict()))
        else:
            count = await replay_parked(bus, args.limit, args.message_id, progress=_progress)
            print(f"replayed {count} message(s) to {settings.service_name}'s queue")
    finally:
        await bus.close()
    return 0


def _progress(replayed: int, seen: int, total: int) -> None:
    """One line on stderr every 100 messages and at the end of a replay (stdout stays the
    result line)."""
    if seen % 100 == 0 or seen == total:
        print(f"replay: {seen}/{total} examined, {replayed} replayed", file=sys.stderr, flush=True)


async def _ops_status(settings: ServiceSettings, as_json: bool) -> int:
    """`<service> ops status`: outbox backlog and oldest pending age, queue lag, consumers,
    parked count."""
    bus = Bus(
        settings.amqp_url,
        settings.amqp_exchange,
        settings.service_name,
        queue_prefix=settings.amqp_queue_prefix,
    )
    client = create_client(settings)
    await bus.connect()
    try:
        db = await open_database(client, settings)
        outbox = await outbox_status(await outbox_collections(db), utcnow())
        queue = await queue_status(bus)
    finally:
        await bus.close()
        await client.close()
    document = status_document(settings.service_name, outbox, queue)
    print(json.dumps(document) if as_json else render_status(document))
    return 0
