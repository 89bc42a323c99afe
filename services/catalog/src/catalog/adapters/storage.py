"""Rendition files on the local disk under ``media_root``, read in chunks, never whole.

In production the same keys name objects in object storage (or files nginx serves); the
catalog only needs ``stat`` and ``stream`` from it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import anyio


class UnsafeStorageKey(ValueError):
    """A storage key that would leave the media root (``..``, absolute paths)."""


@dataclass(frozen=True)
class StoredFile:
    path: Path
    size: int
    mtime_ns: int

    @property
    def modified_at(self) -> datetime:
        return datetime.fromtimestamp(self.mtime_ns / 1e9, UTC)


class LocalMediaStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path_for(self, storage_key: str) -> Path:
        path = (self.root / storage_key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise UnsafeStorageKey(storage_key)
        return path

    def stat(self, storage_key: str) -> StoredFile | None:
        # A local stat takes microseconds; not worth a thread hop on the serving path.
        path = self.path_for(storage_key)
        try:
            info = path.stat()
        except FileNotFoundError:
            return None
        return StoredFile(path, info.st_size, info.st_mtime_ns)

    async def stream(
        self, stored: StoredFile, start: int, length: int, chunk_bytes: int
    ) -> AsyncIterator[bytes]:
        """``length`` bytes from ``start``, ``chunk_bytes`` at a time."""
        remaining = length
        async with await anyio.open_file(stored.path, "rb") as file:
            await file.seek(start)
            while remaining > 0:
                chunk = await file.read(min(chunk_bytes, remaining))
                if not chunk:
                    break  # the file shrank under us; the client sees a short body
                remaining -= len(chunk)
                yield chunk

    def write(self, storage_key: str, content: bytes) -> Path:
        """Store ``content`` atomically (written aside, then renamed into place)."""
        path = self.path_for(storage_key)
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        draft.write_bytes(content)
        draft.replace(path)
        return path
