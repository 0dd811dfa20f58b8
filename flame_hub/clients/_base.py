"""Client classes: one base per I/O style; helpers and managers installed from the registry.

``CoreClient``/``AsyncCoreClient`` (and storage, auth) differ only in their service name. When a
concrete class is defined, :meth:`_ClientBase.__init_subclass__` installs

- a manager per registry resource of the service (``core.nodes`` -> a lazy QuerySet), and
- every helper of :mod:`._helpers` / :mod:`._special`, wrapped by the class's shell: the sync
  shell runs a helper's plan with :func:`._plan.run_sync`, the async shell awaits
  :func:`._plan.run_async`. The plan itself is shared.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx

from .._http import AsyncHubSession, HubSession
from ..dialects import CURRENT, Dialect
from ..resources import ERAS, REGISTRY, Resource
from ._helpers import DownloadRequest, Helper, StreamRequest, crud_helpers, fetch_page_plan
from ._plan import run_async, run_sync
from ._special import DownloadSink, content_length, special_helpers

__all__ = ["SyncClient", "AsyncClient", "helpers_of", "resources_of_service"]

#: The public Hub (privateaim.dev); local deployments use http://localhost:3000/<service>/.
DEFAULT_BASE_URLS = {
    "auth": "https://auth.privateaim.dev/",
    "core": "https://core.privateaim.dev/",
    "storage": "https://storage.privateaim.dev/",
}


def resources_of_service(service: str) -> list[Resource]:
    """Resources of a service that some Hub era offers (managers and helpers exist for these)."""
    return [r for r in REGISTRY.values()
            if r.service == service and any(r.eras[e].available for e in ERAS)]


@functools.lru_cache(maxsize=None)
def helpers_of(service: str) -> tuple[Helper, ...]:
    """Every helper of a service, generated from the registry (CRUD first, then special ones)."""
    out: dict[str, Helper] = {}
    for res in resources_of_service(service):
        for helper in crud_helpers(res):
            out.setdefault(helper.name, helper)
    for helper in special_helpers(service):
        out[helper.name] = helper
    return tuple(out.values())


class _Manager:
    """Class attribute that gives each client instance a QuerySet of one resource (cached)."""

    def __init__(self, resource: Resource) -> None:
        self.resource = resource
        self.__doc__ = (f"Lazy QuerySet of ``{resource.name}``: chain ``filter()``, ``sort()``, "
                        "slices; iterate to fetch every page.")

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        qs = obj._queryset(self.resource)
        obj.__dict__[self.resource.attr] = qs
        return qs


def _method(helper: Helper, shell: Any) -> Any:
    method = shell(helper)
    method.__name__ = method.__qualname__ = helper.name
    method.__doc__ = helper.doc
    params = list(helper.signature.parameters.values())
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    method.__signature__ = helper.signature.replace(parameters=[self_param, *params])
    method.__flame_hub_helper__ = helper
    return method


class _ClientBase:
    """What sync and async clients share: construction, dialect, managers, helper installation."""

    #: "auth", "core" or "storage" (set by each concrete client)
    service: ClassVar[str]
    _session_class: ClassVar[type]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "service" not in cls.__dict__:
            return
        for res in resources_of_service(cls.service):
            setattr(cls, res.attr, _Manager(res))
        for helper in helpers_of(cls.service):
            setattr(cls, helper.name, _method(helper, cls._shell))

    def __init__(
        self,
        base_url: str | None = None,
        auth: httpx.Auth | str | None = None,
        *,
        client: httpx.Client | httpx.AsyncClient | None = None,
        timeout: httpx.Timeout | float | None = None,
        max_retries: int = 2,
        transport: Any = None,
        dialect: Dialect | None = None,
    ) -> None:
        if client is None and base_url is None:
            base_url = DEFAULT_BASE_URLS[self.service]
        self._session = self._session_class(
            base_url, auth, client=client, timeout=timeout, max_retries=max_retries,
            transport=transport,
        )
        if dialect is not None and not isinstance(dialect, Dialect):
            raise ValueError(f"dialect must be a flame_hub.dialects.Dialect, not {dialect!r}")
        #: the wire conventions of the Hub (``flame_hub.dialects.CURRENT`` = Hub >= 0.13)
        self.dialect: Dialect = dialect or CURRENT

    @classmethod
    def _shell(cls, helper: Helper) -> Any:  # pragma: no cover - defined by SyncClient/AsyncClient
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        """The service's base URL (ends with ``/``)."""
        return str(self._session.base_url)

    @property
    def session(self) -> Any:
        """The :class:`~flame_hub._http.HubSession` (or async twin) every request goes through."""
        return self._session

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"


class SyncClient(_ClientBase):
    """Base of the sync clients: helpers return results; iterate managers with ``for``."""

    _session_class = HubSession

    @classmethod
    def _shell(cls, helper: Helper) -> Any:
        if helper.kind == "stream":
            def stream(self: SyncClient, *args: Any, **kwargs: Any) -> Iterator[bytes]:
                request: StreamRequest = helper.plan(self, *args, **kwargs)
                return self._session.stream("GET", request.path, auth=request.auth,
                                            chunk_size=request.chunk_size)
            return stream
        if helper.kind == "download":
            def download(self: SyncClient, *args: Any, **kwargs: Any) -> Path:
                request: DownloadRequest = helper.plan(self, *args, **kwargs)
                s = request.stream
                with self._session.stream("GET", s.path, auth=s.auth, chunk_size=s.chunk_size) as body:
                    sink = DownloadSink(request, content_length(body.response))
                    try:
                        for chunk in body:
                            sink.write(chunk)
                    except BaseException:
                        sink.abort()
                        raise
                return sink.commit()
            return download

        def call(self: SyncClient, *args: Any, **kwargs: Any) -> Any:
            return run_sync(helper.plan(self, *args, **kwargs), self._session)
        return call

    def _queryset(self, resource: Resource) -> Any:
        from ..query import QuerySet

        return QuerySet(resource, self)

    def fetch_page(self, resource: Resource, params: list[tuple[str, str]]) -> tuple[list[Any], dict]:
        """GET one list page (the QuerySet backend protocol): ``(models, meta)``."""
        return run_sync(fetch_page_plan(self, resource, params), self._session)

    def close(self) -> None:
        """Close the HTTP connections (a ``client=`` you passed in stays open)."""
        self._session.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(_ClientBase):
    """Base of the async clients: the same helpers, awaitable; iterate managers with ``async for``."""

    _session_class = AsyncHubSession

    def __init__(self, *args: Any, page_concurrency: int | None = None, **kwargs: Any) -> None:
        """The sync client's arguments, plus ``page_concurrency``: list pages an ``async for``
        fetches at once after the first page gave the total (default 4; per query:
        ``qs.concurrency(n)``)."""
        from ..query import DEFAULT_PAGE_CONCURRENCY, check_concurrency

        concurrency = check_concurrency(DEFAULT_PAGE_CONCURRENCY if page_concurrency is None else page_concurrency)
        super().__init__(*args, **kwargs)
        self.page_concurrency: int = concurrency

    # what help() and inspect show: the sync client's parameters plus page_concurrency
    __init__.__signature__ = inspect.signature(_ClientBase.__init__).replace(parameters=[  # type: ignore[attr-defined]
        *inspect.signature(_ClientBase.__init__).parameters.values(),
        inspect.Parameter("page_concurrency", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="int | None")])

    @classmethod
    def _shell(cls, helper: Helper) -> Any:
        if helper.kind == "stream":
            def stream(self: AsyncClient, *args: Any, **kwargs: Any) -> AsyncIterator[bytes]:
                request: StreamRequest = helper.plan(self, *args, **kwargs)
                return self._session.astream("GET", request.path, auth=request.auth,
                                             chunk_size=request.chunk_size)
            return stream
        if helper.kind == "download":
            async def download(self: AsyncClient, *args: Any, **kwargs: Any) -> Path:
                request: DownloadRequest = helper.plan(self, *args, **kwargs)
                s = request.stream
                async with self._session.astream("GET", s.path, auth=s.auth,
                                                 chunk_size=s.chunk_size) as body:
                    sink = DownloadSink(request, content_length(body.response))
                    try:
                        async for chunk in body:
                            sink.write(chunk)
                    except BaseException:
                        sink.abort()
                        raise
                return sink.commit()
            return download

        async def call(self: AsyncClient, *args: Any, **kwargs: Any) -> Any:
            return await run_async(helper.plan(self, *args, **kwargs), self._session)
        return call

    def _queryset(self, resource: Resource) -> Any:
        from ..query import AsyncQuerySet

        return AsyncQuerySet(resource, self)

    async def afetch_page(self, resource: Resource, params: list[tuple[str, str]]) -> tuple[list[Any], dict]:
        """GET one list page (the async QuerySet backend protocol): ``(models, meta)``."""
        return await run_async(fetch_page_plan(self, resource, params), self._session)

    async def aclose(self) -> None:
        """Close the HTTP connections (a ``client=`` you passed in stays open)."""
        await self._session.aclose()

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
