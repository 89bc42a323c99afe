"""What only the rendered overlays show: patches applied, images and namespaces set.

Skipped, with the install command, when no kustomize binary is found (see manifests.py).
The other deploy tests also run on the rendered output through the ``overlay_docs`` fixture.
"""

from __future__ import annotations

import re

from .conftest import rendered
from .manifests import PART_OF, is_portal, named, of_kind, pod_spec

PINNED = re.compile(r"^[\w.\-/:]+(:[\w.\-]+|@sha256:[0-9a-f]{64})$")
CLUSTER_WIDE = {"Namespace"}


def test_both_overlays_build_and_namespace_everything():
    for overlay, namespace in (("dev", "portal-dev"), ("prod", "portal")):
        docs = rendered(overlay)
        for doc in docs:
            if doc["kind"] not in CLUSTER_WIDE:
                assert doc["metadata"].get("namespace") == namespace, doc["metadata"]["name"]


def test_rendered_images_are_pinned_and_come_from_the_overlay_registry():
    for overlay, registry in (("dev", "localhost:5001/portal/"), ("prod", "registry.example.org/")):
        for deployment in filter(is_portal, of_kind(list(rendered(overlay)), "Deployment")):
            image = pod_spec(deployment)["containers"][0]["image"]
            assert PINNED.match(image) and not image.endswith(":latest"), image
            assert image.startswith(registry), image


def test_dev_runs_every_role_in_one_process_per_service():
    docs = list(rendered("dev"))
    deployments = [d for d in of_kind(docs, "Deployment") if is_portal(d)]
    assert len(deployments) == 4
    assert {tuple(pod_spec(d)["containers"][0]["args"]) for d in deployments} == {("all",)}
    assert {c["data"]["PORTAL_ENV"] for c in of_kind(docs, "ConfigMap")} == {"development"}
    assert of_kind(docs, "MongoDBCommunity")[0]["spec"]["members"] == 1
    assert of_kind(docs, "RabbitmqCluster")[0]["spec"]["replicas"] == 1
    assert named(docs, "Deployment")["mailpit"]["metadata"]["labels"][PART_OF] != "portal"


def test_prod_is_highly_available_and_keeps_media_on_a_shared_volume():
    docs = list(rendered("prod"))
    assert of_kind(docs, "MongoDBCommunity")[0]["spec"]["members"] == 3
    assert of_kind(docs, "RabbitmqCluster")[0]["spec"]["replicas"] == 3
    assert {c["data"]["PORTAL_ENV"] for c in of_kind(docs, "ConfigMap")} == {"production"}
    volumes = {v["name"]: v for v in pod_spec(named(docs, "Deployment")["catalog-api"])["volumes"]}
    assert volumes["data"] == {
        "name": "data",
        "persistentVolumeClaim": {"claimName": "catalog-media"},
    }
    claim = named(docs, "PersistentVolumeClaim")["catalog-media"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert named(docs, "Ingress")["portal-api"]["spec"]["tls"]
    assert not of_kind(docs, "Secret"), "prod Secrets come from ExternalSecrets only"
