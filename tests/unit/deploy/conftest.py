"""Each overlay's objects, as written and as kustomize renders them (`make tools` installs it)."""

from __future__ import annotations

import functools

import pytest

from .manifests import OVERLAYS, Doc, find_kustomize, render, source_documents

FORMS = ("source", "rendered")
NO_KUSTOMIZE = (
    "no kustomize renderer (kustomize, or kubectl with kustomize v4+): `make tools` "
    "(deploy/local/infra.sh tools) installs one, or set KUSTOMIZE=/path/to/kustomize"
)


@functools.cache
def rendered(overlay: str) -> tuple[Doc, ...]:
    kustomize = find_kustomize()
    if kustomize is None:
        pytest.fail(NO_KUSTOMIZE)
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
