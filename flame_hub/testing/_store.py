"""In-memory tables of the fake Hub: one ordered ``{id: record}`` dict per resource.

Records are stored complete, with the wire keys of the served era, in the key order of the
catalog's ``record.keys``; hidden fields are stored too and dropped when answering.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from ..resources import REGISTRY


class Store:
    """Every table of one fake Hub (auth, core and storage)."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, dict]] = {name: {} for name in REGISTRY}
        #: bucket-file id -> content of uploaded files (the Hub keeps no content type)
        self.blobs: dict[str, bytes] = {}
        #: user id -> password (authup keeps hashes; never part of a record)
        self.passwords: dict[str, str] = {}

    def all(self, resource: str) -> list[dict]:
        return list(self.tables[resource].values())

    def iter(self, resource: str) -> Iterator[dict]:
        return iter(self.tables[resource].values())

    def get(self, resource: str, record_id: object) -> dict | None:
        if not isinstance(record_id, str):
            return None
        return self.tables[resource].get(record_id)

    def find(self, resource: str, key: str, value: object) -> dict | None:
        """The first record whose ``key`` equals ``value``."""
        return next((r for r in self.tables[resource].values() if r.get(key) == value), None)

    def insert(self, resource: str, record: dict, key: str | None = None) -> dict:
        """Store a record under its ``id`` (or a private key for id-less records: logs)."""
        self.tables[resource][key or record.get("id") or str(uuid.uuid4())] = record
        return record

    def remove(self, resource: str, record_id: str) -> dict | None:
        self.blobs.pop(record_id, None)
        return self.tables[resource].pop(record_id, None)

    def remove_where(self, resource: str, predicate) -> list[dict]:
        table = self.tables[resource]
        keys = [k for k, r in table.items() if predicate(r)]
        return [table.pop(k) for k in keys]
