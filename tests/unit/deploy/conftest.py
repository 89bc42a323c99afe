"""Each overlay's objects, as written (always) and as kustomize renders them (when installed)."""

from __future__ import annotations

import functools

import pytest

from .manifests import OVERLAYS, Doc, find_kustomize, render, source_documents

FORMS = ("source", "rendered")
NO_KUSTOMIZE = (
    "kustomize not installed: `go install sigs.k8s.io/kustomize/kustomize/v5@v5.4.3` "
    "(lands in $(go env GOPATH)/bin) or set KUSTOMIZE=/path/to/kustomize"
)


@functools.cache
def rendered(overlay: str) -> tuple[Doc, ...]:
    kustomize = find_kustomize()
    if kustomize is None:
        pytest.skip(NO_KUSTOMIZE)
    return tuple(render(kustomize, overlay))


def documents(overlay: str, form: str) -> list[Doc]:
    """``source``: the files the overlay starts from; ``rendered``: kustomize's output."""
    return source_documents(overlay) if form == "source" else list(rendered(overlay))


@pytest.fixture(
    params=[(overlay, form) for form in FORMS for overlay in OVERLAYS],
    ids=lambda param: f"{param[0]}-{param[1]}",
)
def overlay_docs(request: pytest.FixtureRequest) -> tuple[str, list[Doc]]:
    overlay, form = request.param
    return overlay, documents(overlay, form)


@pytest.fixture(params=FORMS)
def dev_docs(request: pytest.FixtureRequest) -> list[Doc]:
    return documents("dev", request.param)


@pytest.fixture(params=FORMS)
def prod_docs(request: pytest.FixtureRequest) -> list[Doc]:
    return documents("prod", request.param)
