"""Arguments of the operator subcommands every service has (``parked``, ``ops``).

Kept apart from ``portal_shared.cli`` so a command line can declare them without importing the
service stack (``transcript parse`` must start fast).
"""

from __future__ import annotations

import argparse

PARKED_HELP = "list or replay the parking lot (operators)"
OPS_HELP = "operator views: `ops status` (outbox backlog and age, queue lag, parked count)"


def configure_parked(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["list", "replay"])
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--id", dest="message_id", help="replay only this message (event id)")


def configure_ops(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["status"])
    parser.add_argument("--json", action="store_true", help="print the status as one JSON object")
