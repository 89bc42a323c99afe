"""DatabaseMonitor: the driver's own view of the servers, as one flag requests can read."""

from __future__ import annotations

from bson import ObjectId
from portal_shared.mongo import DatabaseMonitor, create_client
from portal_shared.settings import ServiceSettings
from pymongo import monitoring
from pymongo.hello import Hello
from pymongo.server_description import ServerDescription

A = ("db1", 27017)
B = ("db2", 27017)


def writable(address: tuple[str, int]) -> ServerDescription:
    return ServerDescription(
        address, Hello({"ok": 1, "isWritablePrimary": True, "maxWireVersion": 17})
    )


def gone(address: tuple[str, int]) -> ServerDescription:
    return ServerDescription(address, error=ConnectionRefusedError("refused"))


def change(monitor: DatabaseMonitor, old: ServerDescription, new: ServerDescription) -> None:
    monitor.description_changed(
        monitoring.ServerDescriptionChangedEvent(old, new, new.address, ObjectId())
    )


def test_unknown_until_the_driver_has_seen_a_server() -> None:
    assert DatabaseMonitor().unreachable is False


def test_away_once_every_known_server_is_away_and_back_with_one() -> None:
    monitor = DatabaseMonitor()
    change(monitor, ServerDescription(A), writable(A))
    change(monitor, ServerDescription(B), writable(B))
    change(monitor, writable(A), gone(A))
    assert monitor.unreachable is False, "one writable server left"
    change(monitor, writable(B), gone(B))
    assert monitor.unreachable is True
    change(monitor, gone(B), writable(B))
    assert monitor.unreachable is False


def test_a_removed_server_no_longer_counts() -> None:
    monitor = DatabaseMonitor()
    change(monitor, ServerDescription(A), gone(A))
    assert monitor.unreachable is True
    monitor.closed(monitoring.ServerClosedEvent(A, topology_id=None))  # type: ignore[arg-type]
    assert monitor.unreachable is False


async def test_a_client_without_a_monitor_is_made_too() -> None:
    # the CLIs (load-demo, create-editor) open the database without one; nothing connects
    # until an operation, so this needs no server
    settings = ServiceSettings(service_name="probe")
    for client in (create_client(settings), create_client(settings, DatabaseMonitor())):
        await client.close()
