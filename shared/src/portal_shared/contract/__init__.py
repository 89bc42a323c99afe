"""The event contract, derived: JSON Schemas per event type and version, the AsyncAPI document,
and the compatibility rules between two versions of a schema.

Everything here is computed from the event models (``portal_shared.events``), the topology
(``portal_shared.bus.topology``) and the handler registries the services pass in; nothing is
written twice. ``tools/contract.py`` collects the registries and writes ``docs/``.
"""

from portal_shared.contract.asyncapi import Subscription, build_asyncapi
from portal_shared.contract.compat import breaking_changes
from portal_shared.contract.schemas import event_schema, schema_file_name

__all__ = ["Subscription", "breaking_changes", "build_asyncapi", "event_schema", "schema_file_name"]
