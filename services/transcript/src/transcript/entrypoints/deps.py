"""What routes need, as ``Annotated`` dependencies: the service's one typed ``Context``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from transcript.service_layer.context import Context

# Opaque ids (the catalog's UUID or slug); "/" is excluded since it separates stored keys.
VIDEO_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._~:-]{0,127}$"


def _context(request: Request) -> Context:
    context: Context = request.app.state.transcript
    return context


ContextDep = Annotated[Context, Depends(_context)]
VideoId = Annotated[
    str, Path(pattern=VIDEO_ID_PATTERN, description="the catalog's video id (or slug)")
]
