#!/usr/bin/env python3
"""Least privilege on the bus: one RabbitMQ user per service and a read-only subscriber user.

Each service user may declare and publish to the exchange (and declare its archive stream),
touch only its own ``<prefix><service>.*`` queues and its own ``<prefix><service>.retry``
exchange (its retries, parked messages and replays go there, never through the default
exchange, which would reach any queue by name; the broker's own dead-lettering needs no user
permission), publish on the topic exchange only routing
keys ``portal.<service>.*`` (a service that produces nothing may publish none), and bind only
``portal.*`` keys. The subscriber user (``<user-prefix>subscriber``) may only declare, bind and
read its own ``<prefix>subscriber.*`` queues and read the archive stream: it can publish nothing.
The same rules, for vhost ``portal`` and no queue prefix, are the Kubernetes topology in
deploy/k8s/components/infra/rabbitmq.yaml (a unit test holds the two together).

Users are created through the broker's management API (stdlib only, so a fresh machine needs
nothing more); each password is generated once and kept, with the user's AMQP URL, in
``--out`` (mode 0600), where deploy/local/platform.sh reads the URL of each service.

    bus_users.py --out DIR [--exchange portal.events] [--queue-prefix P] [--user-prefix portal-]
    bus_users.py --print ...    # the permission table as JSON, touching nothing
    bus_users.py --delete ...   # remove these users
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

SERVICES = ("identity", "notifier", "catalog", "transcript")
PUBLISHERS = ("identity", "catalog", "transcript")  # producers of portal.<service>.* events
SUBSCRIBER = "subscriber"
NOTHING = "^$"


def permissions(exchange: str, queue_prefix: str, user_prefix: str) -> dict[str, dict[str, Any]]:
    """User name -> its vhost permissions and its topic permissions on the exchange."""
    ex = re.escape(exchange)
    table: dict[str, dict[str, Any]] = {}
    for service in SERVICES:
        own = re.escape(f"{queue_prefix}{service}.") + ".+"
        table[f"{user_prefix}{service}"] = {
            "service": service,
            "configure": f"^({ex}|{ex}\\.archive|{own})$",
            "write": f"^({ex}|{ex}\\.archive|{own})$",
            "read": f"^({ex}|{own})$",
            "topic": {
                "exchange": exchange,
                "write": f"^portal\\.{service}\\." if service in PUBLISHERS else NOTHING,
                "read": "^portal\\.",
            },
        }
    own = re.escape(f"{queue_prefix}{SUBSCRIBER}.") + ".+"
    table[f"{user_prefix}{SUBSCRIBER}"] = {
        "service": SUBSCRIBER,
        "configure": f"^{own}$",
        "write": f"^{own}$",
        "read": f"^({ex}|{ex}\\.archive|{own})$",
        "topic": {"exchange": exchange, "write": NOTHING, "read": "^portal\\."},
    }
    return table


class Management:
    def __init__(self, url: str, admin: str) -> None:
        self.url = url.rstrip("/")
        self.auth = "Basic " + base64.b64encode(admin.encode()).decode()

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> int:
        request = urllib.request.Request(  # noqa: S310 (loopback management API)
            self.url + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": self.auth, "content-type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as error:
            if method == "DELETE" and error.code == 404:
                return 404
            raise SystemExit(
                f"bus_users: {method} {path}: HTTP {error.code} {error.read()[:200]!r}"
            ) from None


def _password(out: Path, user: str) -> str:
    path = out / f"{user}.password"
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(24)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


def create(args: argparse.Namespace, table: dict[str, dict[str, Any]]) -> None:
    api = Management(args.management_url, os.environ.get("PORTAL_RABBITMQ_ADMIN", "guest:guest"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    out.chmod(0o700)
    vhost = urllib.parse.quote(args.vhost, safe="")
    for user, grant in table.items():
        password = _password(out, user)
        name = urllib.parse.quote(user, safe="")
        api.call("PUT", f"/api/users/{name}", {"password": password, "tags": ""})
        api.call(
            "PUT",
            f"/api/permissions/{vhost}/{name}",
            {k: grant[k] for k in ("configure", "write", "read")},
        )
        api.call("PUT", f"/api/topic-permissions/{vhost}/{name}", grant["topic"])
        url = f"amqp://{user}:{password}@{args.amqp_host}/{vhost}"
        path = out / f"{grant['service']}.url"
        path.write_text(url + "\n")
        path.chmod(0o600)


def delete(args: argparse.Namespace, table: dict[str, dict[str, Any]]) -> None:
    api = Management(args.management_url, os.environ.get("PORTAL_RABBITMQ_ADMIN", "guest:guest"))
    for user in table:
        api.call("DELETE", f"/api/users/{urllib.parse.quote(user, safe='')}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exchange", default="portal.events")
    parser.add_argument("--queue-prefix", default="")
    parser.add_argument("--user-prefix", default="portal-")
    parser.add_argument("--vhost", default="/")
    parser.add_argument("--management-url", default="http://127.0.0.1:15672")
    parser.add_argument("--amqp-host", default="127.0.0.1:5672")
    parser.add_argument("--out", default=".local/rabbitmq-users")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--print", action="store_true", help="print the table, touch nothing")
    action.add_argument("--delete", action="store_true", help="remove these users")
    args = parser.parse_args(argv)
    table = permissions(args.exchange, args.queue_prefix, args.user_prefix)
    if args.print:
        json.dump(table, sys.stdout, indent=2)
        print()
    elif args.delete:
        delete(args, table)
    else:
        create(args, table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
