"""The kustomize tree: references resolve, nothing is orphaned, overlays pin images."""

from __future__ import annotations

import pytest

from .manifests import (
    K8S,
    OVERLAYS,
    SERVICES,
    Kustomization,
    all_kustomizations,
    load_documents,
    named,
    of_kind,
    pod_spec,
    source_documents,
)

KUSTOMIZATIONS = all_kustomizations()


@pytest.mark.parametrize(
    "kustomization", KUSTOMIZATIONS, ids=lambda k: str(k.folder.relative_to(K8S))
)
def test_every_reference_exists(kustomization: Kustomization):
    for path in kustomization.referenced_paths():
        assert path.exists(), f"{kustomization.folder}: {path} does not exist"
        if path.is_dir():
            assert (path / "kustomization.yaml").is_file(), f"{path} has no kustomization.yaml"
    for entry in kustomization.entries("components"):
        assert Kustomization.at(kustomization.folder / entry).spec["kind"] == "Component"


def test_no_manifest_is_left_out_of_every_kustomization():
    referenced = {
        path.resolve()
        for kustomization in KUSTOMIZATIONS
        for path in kustomization.referenced_paths()
    }
    manifests = {p.resolve() for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml"}
    assert manifests - referenced == set()


def test_every_object_is_complete():
    for path in K8S.rglob("*.yaml"):
        if path.parent.name == "patches" and isinstance(load_documents(path)[0], list):
            continue  # JSON patches are operation lists
        for doc in load_documents(path):
            assert doc.get("apiVersion") and doc.get("kind"), path
            assert path.name == "kustomization.yaml" or doc["metadata"].get("name"), path


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_pins_every_image_it_uses(overlay):
    kustomization = Kustomization.at(K8S / "overlays" / overlay)
    pins = {image["name"]: image for image in kustomization.entries("images")}
    used = {
        container["image"]
        for deployment in of_kind(source_documents(overlay), "Deployment")
        for container in pod_spec(deployment)["containers"]
    }
    ours = {image for image in used if image.startswith("portal-")}
    assert ours == {f"portal-{service}" for service in SERVICES}
    assert set(pins) == ours
    for pin in pins.values():
        assert pin.get("digest") or pin.get("newTag") not in {None, "", "latest"}, pin
    for image in used - ours:  # third-party images are pinned where they are written
        assert ":" in image and not image.endswith(":latest"), image


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_owns_its_namespace(overlay):
    kustomization = Kustomization.at(K8S / "overlays" / overlay)
    namespace = kustomization.spec["namespace"]
    assert namespace in named(source_documents(overlay), "Namespace")
    assert "namespace" not in Kustomization.at(K8S / "base").spec


def test_base_images_are_bare_names_for_the_overlays_to_pin():
    for deployment in of_kind(source_documents("prod"), "Deployment"):
        image = pod_spec(deployment)["containers"][0]["image"]
        assert ":" not in image and "@" not in image, image
