"""Reading the Kubernetes manifests the way kustomize would find them, without kustomize.

``source_documents(overlay)`` follows an overlay's kustomization (resources and components,
recursively) and returns every object it would start from, before patches and transformers:
enough to check structure offline. ``render(overlay)`` runs a real kustomize when one is
installed, for the checks to run on the exact output too.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
K8S = REPO / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
SERVICES = ("identity", "notifier", "catalog", "transcript")
PORTS = {"identity": 8001, "notifier": 8002, "catalog": 8003, "transcript": 8004}
ROLES = ("api", "consumer", "relay", "all")
PART_OF = "app.kubernetes.io/part-of"
NAME = "app.kubernetes.io/name"
COMPONENT = "app.kubernetes.io/component"

Doc = dict[str, Any]
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_documents(path: Path) -> list[Doc]:
    """The objects of a (multi-document) YAML file; shared between callers: copy to change."""
    return list(_load(path.resolve()))


@functools.cache
def _load(path: Path) -> tuple[Doc, ...]:
    with path.open() as file:
        return tuple(doc for doc in yaml.load_all(file, Loader=Loader) if doc is not None)


@dataclass(frozen=True)
class Kustomization:
    folder: Path
    spec: Doc

    @classmethod
    def at(cls, folder: Path) -> Kustomization:
        return cls(folder, load_documents(folder / "kustomization.yaml")[0])

    def entries(self, field: str) -> list[str]:
        return list(self.spec.get(field) or [])

    def patch_paths(self) -> list[Path]:
        paths = [
            self.folder / patch["path"] for patch in self.entries("patches") if "path" in patch
        ]
        return paths + [self.folder / name for name in self.entries("patchesStrategicMerge")]

    def referenced_paths(self) -> list[Path]:
        """Every file or folder this kustomization names, resolved against its folder."""
        paths = [self.folder / entry for entry in self.entries("resources")]
        paths += [self.folder / entry for entry in self.entries("components")]
        paths += self.patch_paths()
        for generator in self.entries("configMapGenerator") + self.entries("secretGenerator"):
            for entry in (generator.get("files") or []) + (generator.get("envs") or []):
                paths.append(self.folder / entry.split("=", 1)[-1])
        return paths

    def children(self) -> Iterator[Kustomization]:
        for entry in self.entries("resources") + self.entries("components"):
            path = self.folder / entry
            if path.is_dir():
                yield Kustomization.at(path)


def resource_files(kustomization: Kustomization) -> list[Path]:
    """The manifest files an overlay is built from (resources of it and its children)."""
    files = [
        kustomization.folder / entry
        for entry in kustomization.entries("resources")
        if (kustomization.folder / entry).is_file()
    ]
    for child in kustomization.children():
        files += resource_files(child)
    return files


def all_kustomizations() -> list[Kustomization]:
    return [Kustomization.at(path.parent) for path in sorted(K8S.rglob("kustomization.yaml"))]


def source_documents(overlay: str) -> list[Doc]:
    return [
        doc
        for path in resource_files(Kustomization.at(K8S / "overlays" / overlay))
        for doc in load_documents(path)
    ]


def find_kustomize() -> list[str] | None:
    """The command that renders an overlay: $KUSTOMIZE, a kustomize binary ($GOPATH/bin, where
    `go install` puts it, or PATH), else ``kubectl kustomize`` when kubectl's built-in
    kustomize is v4 or later (Debian bookworm's kubectl 1.20 embeds v2, which cannot read
    ``components``). ``deploy/local/infra.sh tools`` installs one when none is found."""
    gopath = Path(os.environ.get("GOPATH") or Path.home() / "go")
    for candidate in (os.environ.get("KUSTOMIZE"), gopath / "bin" / "kustomize"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return [str(candidate), "build"]
    found = shutil.which("kustomize")
    if found:
        return [found, "build"]
    kubectl = shutil.which("kubectl")
    if kubectl and _embedded_kustomize_major(kubectl) >= 4:
        return [kubectl, "kustomize"]
    return None


def _embedded_kustomize_major(kubectl: str) -> int:
    result = subprocess.run(
        [kubectl, "version", "--client"], capture_output=True, text=True, timeout=60, check=False
    )
    match = re.search(r"^Kustomize Version: v(\d+)\.", result.stdout, re.MULTILINE)
    return int(match.group(1)) if match else 0


def render(kustomize: list[str], overlay: str) -> list[Doc]:
    result = subprocess.run(
        [*kustomize, str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{' '.join(kustomize)} {overlay} failed:\n{result.stderr}"
    return [doc for doc in yaml.load_all(result.stdout, Loader=Loader) if doc is not None]


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [doc for doc in docs if doc.get("kind") == kind]


def named(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {doc["metadata"]["name"]: doc for doc in of_kind(docs, kind)}


def is_portal(doc: Doc) -> bool:
    return (doc.get("metadata", {}).get("labels") or {}).get(PART_OF) == "portal"


def pod_spec(deployment: Doc) -> Doc:
    return deployment["spec"]["template"]["spec"]


def pod_labels(deployment: Doc) -> dict[str, str]:
    return deployment["spec"]["template"]["metadata"].get("labels") or {}


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def console_scripts(service: str) -> set[str]:
    with (REPO / "services" / service / "pyproject.toml").open("rb") as file:
        return set(tomllib.load(file)["project"].get("scripts", {}))


def workspace_members() -> list[Path]:
    """The workspace members' folders, from the root pyproject's member globs."""
    with (REPO / "pyproject.toml").open("rb") as file:
        patterns = tomllib.load(file)["tool"]["uv"]["workspace"]["members"]
    return sorted(
        folder.relative_to(REPO)
        for pattern in patterns
        for folder in REPO.glob(pattern)
        if (folder / "pyproject.toml").is_file()
    )
