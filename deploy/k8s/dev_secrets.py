"""Fresh random Secrets for the dev overlay, printed as YAML for ``kubectl create -f -``.

The services read their passwords and keys from Secrets that are never committed: in
production the External Secrets Operator makes them (overlays/prod/external-secrets.yaml);
in development this script does, with new random values each run. From the repo root::

    .venv/bin/python deploy/k8s/dev_secrets.py | kubectl create -f -

``kubectl create`` leaves a Secret that already exists untouched (it reports AlreadyExists),
so running it again never swaps keys under running services; delete a Secret to renew it.
The MongoDB connection strings are not made here: the MongoDB operator writes them.
"""

from __future__ import annotations

import argparse
import base64
import secrets
import sys
from collections.abc import Sequence
from typing import Any

import yaml

SERVICES = ("identity", "notifier", "catalog", "transcript")
DEV_NAMESPACE = "portal-dev"


def dev_secrets(namespace: str = DEV_NAMESPACE) -> list[dict[str, Any]]:
    """Every Secret the dev overlay's pods and operators read, with fresh random values."""
    from portal_shared.sealing import generate_keypair

    notifier_private, notifier_public = generate_keypair()
    sealing_private, sealing_public = generate_keypair()  # identity's: the notifier trusts it
    documents: list[dict[str, Any]] = []
    for service in SERVICES:
        # Hex passwords: URL-safe, since they end up inside MONGODB_URL and AMQP_URL.
        documents.append(
            _secret(f"{service}-mongodb-password", namespace, {"password": _password()})
        )
        documents.append(
            _secret(
                f"{service}-rabbitmq-credentials",
                namespace,
                {"username": service, "password": _password()},
            )
        )
    documents.append(
        _secret(
            "subscriber-rabbitmq-credentials",
            namespace,
            {"username": "subscriber", "password": _password()},
        )
    )
    documents.append(
        _secret(
            "identity-keys",
            namespace,
            {
                "signing-key.pem": _ed25519_pem(),
                "code-hmac.key": _random_base64(32),
                "sealing.key": sealing_private,
                "notifier-public.key": notifier_public,
            },
        )
    )
    documents.append(
        _secret(
            "notifier-keys",
            namespace,
            {"private.key": notifier_private, "identity-public.keys": sealing_public},
        )
    )
    documents.append(
        _secret("catalog-keys", namespace, {"link-keys": f"dev1:{_random_base64(32)}"})
    )
    return documents


def _secret(name: str, namespace: str, values: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "portal"},
            "annotations": {"portal/generated-by": "deploy/k8s/dev_secrets.py"},
        },
        "type": "Opaque",
        "stringData": values,
    }


def _password() -> str:
    return secrets.token_hex(24)


def _random_base64(size: int) -> str:
    return base64.b64encode(secrets.token_bytes(size)).decode()


def _ed25519_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--namespace", default=DEV_NAMESPACE)
    args = parser.parse_args(argv)
    yaml.safe_dump_all(dev_secrets(args.namespace), sys.stdout, sort_keys=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
