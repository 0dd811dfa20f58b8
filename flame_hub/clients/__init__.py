"""The Hub's three services as clients: :class:`CoreClient`, :class:`StorageClient`,
:class:`AuthClient`, and their async twins.

Every client has

- the original client's constructor ``(base_url=None, auth=None, *, client=None)`` plus
  ``timeout=``, ``max_retries=``, ``transport=`` and ``dialect=``; without ``base_url`` the URL
  (and, without ``auth``, the credentials) come from the environment (``FLAME_HUB_URL``, ...;
  see :mod:`flame_hub._config`), else the public Hub
  (``https://{auth,core,storage}.privateaim.dev/``, logged once); a ``client=`` (an
  ``httpx.Client``) wins over ``base_url``/``auth`` (with a warning when both are given);
- one lazy QuerySet per resource of its service (``core.nodes``, ``storage.buckets``,
  ``auth.realms``, ...);
- the documented helpers, generated from the resource registry: ``get_<xs>()`` (first 50),
  ``find_<xs>(filter=, page=, sort=, fields=, include=, meta=)``, ``get_<x>(id)`` (``None`` on
  404), ``create_<x>(...)``, ``update_<x>(id, **changes)``, ``delete_<x>(id)``, plus the special
  operations (commands, credentials, log deletes, upload, streams, download);
- ``close()`` and ``with`` (``aclose()`` and ``async with`` for the async clients).
"""

from __future__ import annotations

from ._base import DEFAULT_BASE_URLS, AsyncClient, SyncClient, helpers_of
from ._helpers import ALL_RELATIONS, IgnoredArgumentWarning, check_id

__all__ = [
    "CoreClient", "StorageClient", "AuthClient",
    "AsyncCoreClient", "AsyncStorageClient", "AsyncAuthClient",
    "SyncClient", "AsyncClient", "DEFAULT_BASE_URLS", "ALL_RELATIONS", "check_id", "helpers_of",
    "IgnoredArgumentWarning",
]


class CoreClient(SyncClient):
    """The core service: nodes, projects, analyses, registries, master images, logs, ..."""

    service = "core"


class StorageClient(SyncClient):
    """The storage service: buckets and bucket files (upload, streams, download)."""

    service = "storage"


class AuthClient(SyncClient):
    """The auth service (authup): realms, users, roles, permissions, clients, ..."""

    service = "auth"


class AsyncCoreClient(AsyncClient):
    """Async twin of :class:`CoreClient` (same helpers, awaitable)."""

    service = "core"


class AsyncStorageClient(AsyncClient):
    """Async twin of :class:`StorageClient` (same helpers, awaitable)."""

    service = "storage"


class AsyncAuthClient(AsyncClient):
    """Async twin of :class:`AuthClient` (same helpers, awaitable)."""

    service = "auth"
