"""flame-hub-client: the Python client for the FLAME Hub (auth, core, storage).

::

    import flame_hub

    auth = flame_hub.auth.PasswordAuth(username="admin", password="start123",
                                       base_url="http://localhost:3000/auth/")
    core = flame_hub.CoreClient(base_url="http://localhost:3000/core/", auth=auth)
    node = core.create_node(name="my-node")
    core.update_node(node, hidden=True)
    for n in core.nodes.filter(hidden=True):   # lazy, auto-paginating
        print(n.name)

Or, with one auth and one connection pool for all three services (settings from the arguments,
else the environment: ``FLAME_HUB_URL``, ``FLAME_HUB_USERNAME``, ...)::

    with flame_hub.Hub("http://localhost:3000/", username="admin", password="start123") as hub:
        hub.core.nodes.count()

Public names: :class:`Hub` and :class:`AsyncHub`, the clients (:class:`CoreClient`,
:class:`StorageClient`, :class:`AuthClient` and their ``Async`` twins), the submodules
:mod:`~flame_hub.auth`, :mod:`~flame_hub.models`, :mod:`~flame_hub.types` and
:mod:`~flame_hub.errors`, and the exception classes (also at top level:
``flame_hub.HubAPIError``, ``flame_hub.NotFound``, ...).
"""

from __future__ import annotations

import importlib
from typing import Any

from . import auth, errors, models, types
from ._hub import AsyncHub, Hub
from .clients import (
    AsyncAuthClient,
    AsyncCoreClient,
    AsyncStorageClient,
    AuthClient,
    CoreClient,
    StorageClient,
)
from .errors import (
    AuthenticationError,
    BadRequest,
    Conflict,
    Forbidden,
    HubAPIError,
    HubConnectionError,
    HubError,
    HubTimeout,
    InvalidArgument,
    MalformedToken,
    MultipleObjectsReturned,
    NotFound,
    RateLimited,
    ServerError,
    Unauthorized,
    WaitError,
    WaitFailed,
    WaitTimeout,
)
from .models import get_field_names, get_includable_names

__version__ = "2.0.0.dev0"
#: ``__version__`` as a tuple, numbers as ints (``(2, 0, 0, "dev0")``): compare it with tuples
#: such as ``(1, 1)``.
__version_info__ = tuple(int(p) if p.isdigit() else p for p in __version__.split("."))

__all__ = [
    "__version__", "__version_info__", "get_field_names", "get_includable_names",
    "Hub", "AsyncHub",
    "AuthClient", "CoreClient", "StorageClient",
    "AsyncAuthClient", "AsyncCoreClient", "AsyncStorageClient",
    "auth", "errors", "models", "types",
    "HubError", "HubAPIError", "BadRequest", "Unauthorized", "AuthenticationError", "Forbidden", "NotFound",
    "Conflict", "RateLimited", "ServerError", "HubConnectionError", "HubTimeout", "MultipleObjectsReturned",
    "WaitError", "WaitTimeout", "WaitFailed", "InvalidArgument", "MalformedToken",
]

# Imported on first use: ``testing`` is the fake Hub (its server needs the ``testing`` extra).
_LAZY_SUBMODULES = ("query", "testing", "resources", "dialects")


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'flame_hub' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(_LAZY_SUBMODULES))
