"""One entry point for the three services: :class:`Hub` and :class:`AsyncHub`.

::

    with flame_hub.Hub("http://localhost:3000/", username="admin", password="start123") as hub:
        hub.core.nodes.count(); hub.storage.get_buckets(); hub.auth.get_realm_by_name("master")

``hub.auth``, ``hub.core`` and ``hub.storage`` are the ordinary clients (:class:`AuthClient`, ...),
built with one auth flow (one token for all three: one grant, one refresh) and one connection
pool (an httpx transport they share). Settings come from the arguments, then the environment
(``FLAME_HUB_URL``, ``FLAME_HUB_USERNAME``, ...; see :mod:`flame_hub._config`), then ``.env`` when
asked, then the public Hub.

The sync and async hubs differ only in their client classes, transport class and how they close.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar, Generic, TypeVar

import httpx

from . import _config
from .auth import StaticAuth
from .clients import (
    AsyncAuthClient,
    AsyncCoreClient,
    AsyncStorageClient,
    AuthClient,
    CoreClient,
    StorageClient,
)

__all__ = ["Hub", "AsyncHub"]

#: connect 5 s, everything else 30 s (the clients' defaults) for token requests
_TOKEN_TIMEOUT = httpx.Timeout(30.0, connect=5.0)

_A = TypeVar("_A")
_C = TypeVar("_C")
_S = TypeVar("_S")


class _SharedTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The hub's one connection pool, lent to each client: closing a client leaves it open (the
    hub closes the pool itself, once)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)

    def close(self) -> None:
        """Nothing: the hub owns the pool."""

    async def aclose(self) -> None:
        """Nothing: the hub owns the pool."""


class _HubBase(Generic[_A, _C, _S]):
    """What :class:`Hub` and :class:`AsyncHub` share: configuration, auth, clients, repr."""

    _client_classes: ClassVar[tuple[type, type, type]]
    _transport_class: ClassVar[type]
    _token_client_class: ClassVar[type]
    #: the auth flows' argument for the token client ("client" or "async_client")
    _token_client_arg: ClassVar[str]

    auth: _A
    core: _C
    storage: _S

    def __init__(
        self,
        url: str | None = None,
        *,
        auth_url: str | None = None,
        core_url: str | None = None,
        storage_url: str | None = None,
        username: str | None = None,
        password: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        token: str | None = None,
        auth: httpx.Auth | str | None = None,
        hub_version: str | None = None,
        timeout: httpx.Timeout | float | None = None,
        max_retries: int = 2,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        dotenv: bool | str | os.PathLike[str] = False,
        **client_options: Any,
    ) -> None:
        """Connect to a Hub.

        - ``url``: the gateway base (``http://localhost:3000/`` serves ``auth/``, ``core/``,
          ``storage/``), or ``auth_url=``/``core_url=``/``storage_url=`` per service (each wins
          over the gateway for its service).
        - credentials: ``username=``/``password=`` (password grant), ``client_id=``/
          ``client_secret=`` (client credentials, e.g. a node), ``token=`` (a bearer token), or an
          auth flow as ``auth=`` (``flame_hub.auth.PasswordAuth(...)``, ...).
        - Not given: from the environment (``FLAME_HUB_URL``, ``FLAME_HUB_USERNAME``, ...), and
          with ``dotenv=True`` (or a path) from ``.env`` below it; URLs and credentials are
          taken as groups (an argument of a group hides the environment's whole group). Nothing
          anywhere: the public Hub, logged once.
        - ``hub_version``, ``timeout``, ``max_retries`` and other client arguments
          (``pace=``, ``page_concurrency=`` for :class:`AsyncHub`) go to each of the clients.
        - ``transport``: an httpx transport to send through instead of a new connection pool
          (e.g. ``FakeHub().transport()``); the hub does not close it.
        """
        explicit = {"url": url, "auth_url": auth_url, "core_url": core_url, "storage_url": storage_url,
                    "username": username, "password": password, "client_id": client_id,
                    "client_secret": client_secret, "token": token}
        self.config = _config.resolve(explicit, dotenv=dotenv, credentials=auth is None)
        if self.config.is_public:
            _config.log_public_fallback(type(self).__name__)
        self._owns_transport = transport is None
        #: an httpx.BaseTransport (Hub) or AsyncBaseTransport (AsyncHub)
        self._transport: Any = transport if transport is not None else self._transport_class()
        shared = _SharedTransport(self._transport)
        self._token_http = self._token_client_class(transport=shared, timeout=_TOKEN_TIMEOUT)
        if isinstance(auth, str):
            auth = StaticAuth(auth)
        #: the auth flow the three clients share (``None``: anonymous)
        self.credentials: httpx.Auth | None = (
            auth if auth is not None else self.config.make_auth(**{self._token_client_arg: self._token_http}))
        auth_cls, core_cls, storage_cls = self._client_classes
        common = dict(timeout=timeout, max_retries=max_retries, transport=shared, hub_version=hub_version,
                      **client_options)
        urls = self.config.urls
        self.auth = auth_cls(urls["auth"], self.credentials, **common)
        self.core = core_cls(urls["core"], self.credentials, **common)
        self.storage = storage_cls(urls["storage"], self.credentials, **common)

    @classmethod
    def from_env(cls, dotenv: bool | str | os.PathLike[str] = True, **kwargs: Any) -> Any:
        """A hub configured by the environment and ``.env`` (found from the current directory
        upwards, or the file given); the environment wins over ``.env``, arguments over both."""
        return cls(dotenv=dotenv, **kwargs)

    @property
    def url(self) -> str | None:
        """The gateway base URL, or ``None`` when the services were given one by one."""
        return self.config.url

    @property
    def clients(self) -> tuple[Any, Any, Any]:
        """``(auth, core, storage)``."""
        return self.auth, self.core, self.storage

    def __repr__(self) -> str:
        where = f"url={self.url!r}" if self.url else f"urls={self.config.urls!r}"
        return f"{type(self).__name__}({where}, auth={self.credentials!r})"


class Hub(_HubBase[AuthClient, CoreClient, StorageClient]):
    """The Hub's three services as sync clients sharing one auth flow and one connection pool:
    ``hub.auth`` (:class:`~flame_hub.AuthClient`), ``hub.core`` (:class:`~flame_hub.CoreClient`)
    and ``hub.storage`` (:class:`~flame_hub.StorageClient`). Use it as a context manager, or call
    :meth:`close`."""

    _client_classes = (AuthClient, CoreClient, StorageClient)
    _transport_class = httpx.HTTPTransport
    _token_client_class = httpx.Client
    _token_client_arg = "client"

    def close(self) -> None:
        """Close the clients and the connection pool."""
        for client in self.clients:
            client.close()
        self._token_http.close()
        if self._owns_transport:
            self._transport.close()

    def __enter__(self) -> Hub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncHub(_HubBase[AsyncAuthClient, AsyncCoreClient, AsyncStorageClient]):
    """Async twin of :class:`Hub`: ``hub.auth``, ``hub.core``, ``hub.storage`` are the async
    clients (awaitable helpers, ``async for`` over QuerySets); ``async with`` or :meth:`aclose`."""

    _client_classes = (AsyncAuthClient, AsyncCoreClient, AsyncStorageClient)
    _transport_class = httpx.AsyncHTTPTransport
    _token_client_class = httpx.AsyncClient
    _token_client_arg = "async_client"

    async def aclose(self) -> None:
        """Close the clients and the connection pool."""
        for client in self.clients:
            await client.aclose()
        await self._token_http.aclose()
        if self._owns_transport:
            await self._transport.aclose()

    async def __aenter__(self) -> AsyncHub:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
