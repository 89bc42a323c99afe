"""FerretDB's write serialisation per document (portal_shared.mongo): which writes name one
document, and that the gate lets writes of different documents overlap, never two of one
document, and runs a collection-wide write alone."""

from __future__ import annotations

import asyncio

import pytest
from portal_shared.mongo import _CollectionGate, _document_key


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "key"),
    [
        ("update_one", ({"_id": "a"}, {"$set": {}}), {}, "a"),
        ("update_one", ({"_id": 7, "version": 3}, {"$set": {}}), {}, 7),
        ("find_one_and_update", (), {"filter": {"_id": "w|k"}, "update": {}}, "w|k"),
        ("delete_one", ({"_id": "a"},), {}, "a"),
        ("update_many", ({"_id": {"$in": ["a", "b"]}}, {}), {}, None),
        ("update_one", ({"_id": {"$ne": "a"}, "email": "x"}, {}), {}, None),
        ("delete_many", ({"key": {"$in": ["k"]}},), {}, None),
        ("find_one_and_update", ({"mail_due": True}, {}), {}, None),
        ("update_one", ({"_id": None}, {}), {}, None),
        ("bulk_write", ([],), {}, None),
    ],
)
def test_which_writes_name_one_document(name: str, args: tuple, kwargs: dict, key: object) -> None:
    assert _document_key(name, args, kwargs) == key


async def _overlap(gate: _CollectionGate, plan: list[object]) -> tuple[int, dict[object, int]]:
    """Run one write per entry (a key, or None for a collection-wide one); return the most
    writes inside the gate at once, and per key the most writes of that key at once."""
    inside: list[object] = []
    most = 0
    most_per_key: dict[object, int] = {}

    async def write(key: object) -> None:
        nonlocal most
        async with gate.whole() if key is None else gate.document(key):
            inside.append(key)
            most = max(most, len(inside))
            for k in set(inside):
                most_per_key[k] = max(most_per_key.get(k, 0), inside.count(k))
            if None in inside:
                assert inside == [None], inside  # a collection-wide write runs alone
            await asyncio.sleep(0.001)
            inside.remove(key)

    await asyncio.wait_for(asyncio.gather(*(write(k) for k in plan)), 10)
    return most, most_per_key


async def test_writes_of_different_documents_overlap_but_one_document_waits() -> None:
    most, per_key = await _overlap(_CollectionGate(), ["a", "b", "c", "a", "a", "b"])
    assert most >= 3
    assert per_key == {"a": 1, "b": 1, "c": 1}


async def test_a_collection_wide_write_runs_alone_and_is_not_starved() -> None:
    gate = _CollectionGate()
    plan: list[object] = [f"d{i}" for i in range(20)]
    plan[5:5] = [None]
    plan.append(None)
    _, per_key = await _overlap(gate, plan)
    assert per_key[None] == 1
    assert all(count == 1 for count in per_key.values())
    assert gate._keys == {}  # no lock kept for documents no longer written


async def test_a_failed_write_releases_the_gate() -> None:
    gate = _CollectionGate()
    with pytest.raises(RuntimeError):
        async with gate.document("a"):
            raise RuntimeError("boom")
    with pytest.raises(RuntimeError):
        async with gate.whole():
            raise RuntimeError("boom")
    most, _ = await _overlap(gate, ["a", None, "a"])
    assert most == 1
