"""Core objects against the Kubernetes OpenAPI schemas (strict: no unknown fields).

Needs the `kubernetes-validate` package (it ships the schemas, no network); skipped without
it. Custom resources (operators, External Secrets, Prometheus) have no schema there and are
left to the structural tests.
"""

from __future__ import annotations

import pytest

kubernetes_validate = pytest.importorskip(
    "kubernetes_validate", reason="pip install kubernetes-validate to check against schemas"
)

KUBERNETES_VERSION = "1.30.0"  # the oldest version the manifests target (autoscaling/v2, PSA)


def test_core_objects_match_the_kubernetes_schemas(overlay_docs):
    _, docs = overlay_docs
    checked = 0
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            continue
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message} at {exc.path}")
        checked += 1
    assert checked > 20
