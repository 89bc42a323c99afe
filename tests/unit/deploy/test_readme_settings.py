"""Each service README's configuration table names only settings its settings class reads,
and the defaults it gives for plain values are the code's (the catalog README once gave
token issuer and audience defaults the code did not use)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from .manifests import SERVICES
from .test_config_names import environment_names, settings_class

ROOT = Path(__file__).parents[3]
ROW = re.compile(r"^\| (`[A-Z][^|]*) \| ([^|]*) \|", re.MULTILINE)
NAME = re.compile(r"`(_?[A-Z][A-Z0-9_]*)`")


def expand(previous: str, suffix: str, known: set[str]) -> str:
    """``_FILE`` after ``X``: ``X_FILE``; ``_MEMORY_KIB`` after ``A_ARGON2_TIME_COST``: the
    sibling ``A_ARGON2_MEMORY_KIB`` (the longest common stem that names a setting)."""
    words = previous.split("_")
    candidates = [previous + suffix] + ["_".join(words[:-k]) + suffix for k in range(1, len(words))]
    return next((c for c in candidates if c in known), previous + suffix)


def table_rows(service: str, known: set[str]) -> list[tuple[list[str], str]]:
    """(environment names, default cell) of each configuration row of the README."""
    text = (ROOT / "services" / service / "README.md").read_text()
    rows = []
    for names_cell, default in ROW.findall(text):
        names: list[str] = []
        for name in NAME.findall(names_cell):
            names.append(expand(names[-1], name, known) if name.startswith("_") and names else name)
        if names:
            rows.append((names, default.strip()))
    return rows


def field_for(cls: Any, name: str) -> Any:
    prefix = cls.model_config.get("env_prefix", "")
    for field_name, field in cls.model_fields.items():
        if f"{prefix}{field_name}".upper() == name:
            return field
    return None


@pytest.mark.parametrize("service", SERVICES)
def test_every_documented_setting_exists(service: str) -> None:
    known = environment_names(settings_class(service))
    rows = table_rows(service, known)
    assert rows, f"{service} README has no configuration table"
    documented = {name for names, _ in rows for name in names}
    assert documented - known == set()


@pytest.mark.parametrize("service", SERVICES)
def test_documented_plain_defaults_are_the_codes(service: str) -> None:
    cls = settings_class(service)
    for names, default in table_rows(service, environment_names(cls)):
        values = [v.strip().strip("`") for v in default.split(" / ")]
        if len(values) != len(names):
            continue
        for name, value in zip(names, values, strict=True):
            field = field_for(cls, name)
            if field is None or not isinstance(field.default, str | int | float | bool):
                continue
            if isinstance(field.default, bool) or not re.fullmatch(r"[\w:./-]+", value):
                continue
            if isinstance(field.default, int | float):
                assert float(value) == field.default, (service, name)
            else:
                assert value == field.default, (service, name)
