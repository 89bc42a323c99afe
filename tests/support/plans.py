"""Server query plans as data, for the tests that hold hot paths to their indexes."""

from __future__ import annotations

from typing import Any

Document = dict[str, Any]


def plan_nodes(plan: Document) -> list[Document]:
    """A FerretDB plan's PostgreSQL nodes, outermost first (none for MongoDB's)."""
    found: list[Document] = []

    def walk(node: Document) -> None:
        found.append(node)
        for child in node.get("Plans", []):
            walk(child)

    planner = plan.get("queryPlanner") or {}
    if isinstance(planner.get("Plan"), dict):
        walk(planner["Plan"])
    return found
