"""Client classes: one base per I/O style; helpers and managers installed from the registry.

``CoreClient``/``AsyncCoreClient`` (and storage, auth) differ only in their service name. When a
concrete class is defined, :meth:`_ClientBase.__init_subclass__` installs

- a manager per registry resource of the service (``core.nodes`` -> a lazy QuerySet), and
- every helper of :mod:`._helpers` / :mod:`._special`, wrapped by the class's shell: the sync
  shell runs a helper's plan with :func:`._plan.run_sync`, the async shell awaits
  :func:`._plan.run_async`. The plan itself is shared.

Hub versions: a client speaks the :class:`~flame_hub.dialects.Dialect` given as ``dialect=`` or
``hub_version=``; without either it asks the service once, before its first request that needs
it (``GET {base}/`` answers ``{"version": ...}``; :func:`detect_plan`). Until then
:attr:`_ClientBase.dialect` is the current one, so ``repr()`` and query compilation never send
anything; evaluation detects first, then compiles.
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import anyio
import httpx

from .. import _config
from .._http import AsyncHubSession, HubSession, warn_client_wins
from .._httpx2 import client_settings, is_httpx2_client
from ..dialects import CURRENT, LEGACY, Dialect, dialect_for_authup_version, dialect_for_version
from ..errors import HubConnectionError
from ..query import AsyncQuerySet, QuerySet
from ..resources import ERAS, REGISTRY, Resource
from ._concurrent import ConcurrentBackend
from ._helpers import DownloadRequest, Helper, StreamRequest, crud_helpers, page_call, parse_list
from ._plan import Call, Plan, aperform, perform, run_async, run_sync
from ._special import DownloadSink, content_length, special_helpers
from ._wait import wait_helpers

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["SyncClient", "AsyncClient", "helpers_of", "resources_of_service"]

#: The public Hub (privateaim.dev): the default when neither ``base_url`` nor the environment
#: (``FLAME_HUB_URL``, ``FLAME_HUB_<SERVICE>_URL``) names another; local deployments use
#: http://localhost:3000/<service>/.
DEFAULT_BASE_URLS = _config.PUBLIC_HUB


def resources_of_service(service: str) -> list[Resource]:
    """Resources of a service that some Hub era offers (managers and helpers exist for these)."""
    return [r for r in REGISTRY.values()
            if r.service == service and any(r.eras[e].available for e in ERAS)]


@functools.cache
def helpers_of(service: str) -> tuple[Helper, ...]:
    """Every helper of a service, generated from the registry (CRUD first, then special ones)."""
    out: dict[str, Helper] = {}
    for res in resources_of_service(service):
        for helper in crud_helpers(res):
            out.setdefault(helper.name, helper)
    for helper in (*special_helpers(service), *wait_helpers(service)):
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


# --- Hub version detection (sans-IO; the shells run the plan) -----------------------------------

#: answers of ``GET {base}/`` that are read (a 4xx, e.g. a gateway that hides the root, is no
#: version rather than an error; 5xx and connection errors raise, and detection is tried again)
_ROOT_STATUSES = tuple(range(200, 500))


def _root_version(response: httpx.Response) -> str | None:
    """The ``version`` of a service root answer, if it has one."""
    if response.status_code != 200:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    version = body.get("version") if isinstance(body, dict) else None
    return version if isinstance(version, str) and version else None


def sibling_core_url(base_url: str) -> str | None:
    """``http://gw/storage/`` -> ``http://gw/core/``: the core service behind the same gateway."""
    stripped = base_url.rstrip("/")
    if not stripped.endswith("/storage"):
        return None
    return stripped[: -len("storage")] + "core/"


def dialect_from_root(service: str, version: str | None) -> Dialect:
    """The dialect a service's root version means; without a version: the current one for auth
    and core, the legacy one for storage (only Hub <= 0.12 storage leaves it out, legacy 131)."""
    if version is None:
        return LEGACY if service == "storage" else CURRENT
    if service == "auth":
        return dialect_for_authup_version(version)
    return dialect_for_version(version)


def detect_plan(service: str, base_url: str) -> Plan:
    """Ask the service for its version; returns ``(dialect, version)``. Storage roots of old Hubs
    carry no version: then the core service behind the same gateway is asked (``.../core/``)."""
    response = yield Call("GET", "", auth=None, expected=_ROOT_STATUSES)
    version = _root_version(response)
    core = sibling_core_url(base_url) if service == "storage" and version is None else None
    if core is not None:
        response = yield Call("GET", core, auth=None, expected=_ROOT_STATUSES)
        version = _root_version(response)
        if version is not None:
            return dialect_for_version(version), version
    return dialect_from_root(service, version), version


class _Saving:
    """Writes a streamed download to its destination: commit on success, abort on any error."""

    def __init__(self, request: DownloadRequest) -> None:
        self.request = request
        self.path: Path | None = None

    @contextmanager
    def open(self, response: Any) -> Iterator[DownloadSink]:
        sink = DownloadSink(self.request, content_length(response))
        try:
            yield sink
        except BaseException:
            sink.abort()
            raise
        self.path = sink.commit()

    def saved(self) -> Path:
        """Where the download was saved (once :meth:`open` finished without an error)."""
        if self.path is None:
            raise RuntimeError("the download was not saved")
        return self.path


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
        hub_version: str | None = None,
        pace: bool = True,
    ) -> None:
        if is_httpx2_client(client):  # a flame-hub-client 1.1.0 script's client: its settings win
            warn_client_wins(base_url, auth, timeout, transport)
            base_url, auth, timeout = client_settings(client)
            client = None
        if client is None and base_url is None:
            # the environment (FLAME_HUB_URL, credentials), else the public Hub (logged once)
            base_url, env_auth = _config.client_defaults(self.service, want_auth=auth is None)
            auth = auth if auth is not None else env_auth
        if dialect is not None and hub_version is not None:
            raise ValueError("give dialect= or hub_version=, not both")
        if dialect is not None and not isinstance(dialect, Dialect):
            raise ValueError(f"dialect must be a flame_hub.dialects.Dialect, not {dialect!r}")
        if hub_version is not None:
            dialect = dialect_for_version(hub_version)  # the Hub's version, also for its authup
        self._session = self._session_class(
            base_url, auth, client=client, timeout=timeout, max_retries=max_retries,
            transport=transport, pace=pace,
        )
        self._dialect: Dialect | None = dialect
        self._hub_version: str | None = hub_version
        self._detect_lock = threading.Lock()

    def with_options(self, *, max_retries: int | None = None,
                     timeout: httpx.Timeout | float | None = None) -> Self:
        """The same client for a few calls with other retry or timeout settings::

            core.with_options(max_retries=0).get_nodes()          # fail fast, this call only
            core.with_options(timeout=120).download_bucket_file(file, "big.tar")

        The copy shares connections, auth and the Hub's dialect with this client; closing it
        leaves them open."""
        if max_retries is not None and (not isinstance(max_retries, int) or max_retries < 0):
            raise ValueError(f"max_retries must be a non-negative int, not {max_retries!r}")
        clone = copy.copy(self)
        # QuerySets that ``_Manager`` cached on this client are bound to its session: the copy
        # builds its own on first use
        for name in [n for n in vars(clone) if isinstance(getattr(type(clone), n, None), _Manager)]:
            del clone.__dict__[name]
        clone._session = self._session.with_options(max_retries=max_retries, timeout=timeout)
        return clone

    @property
    def dialect(self) -> Dialect:
        """The wire conventions of the Hub: given, detected, or — until the first request that
        needs it detects them — the current ones (``flame_hub.dialects.CURRENT``, Hub >= 0.13)."""
        return self._dialect or CURRENT

    @dialect.setter
    def dialect(self, dialect: Dialect) -> None:
        if not isinstance(dialect, Dialect):
            raise ValueError(f"dialect must be a flame_hub.dialects.Dialect, not {dialect!r}")
        self._dialect = dialect

    @property
    def dialect_known(self) -> bool:
        """True once the dialect was given or detected."""
        return self._dialect is not None

    @property
    def hub_version(self) -> str | None:
        """The version the service reported (or ``hub_version=``); None before detection, or
        when the service reports none."""
        return self._hub_version

    def _detected(self, result: tuple[Dialect, str | None]) -> Dialect:
        dialect, self._hub_version = result
        self._dialect = dialect  # last: a set dialect means detection is complete
        return dialect

    def _detect_plan(self) -> Plan:
        return detect_plan(self.service, self.base_url)

    @classmethod
    def _shell(cls, helper: Helper) -> Any:  # pragma: no cover - defined by SyncClient/AsyncClient
        raise NotImplementedError

    def _open_stream(self, request: StreamRequest) -> Any:  # pragma: no cover - per shell
        raise NotImplementedError

    @staticmethod
    def _stream_shell(helper: Helper) -> Any:
        """A stream helper: a (sync or async) context manager over the body's chunks. Stream
        routes are the same on every era, so it does not detect first and stays a plain context
        manager (``with client.stream_bucket_file(...) as chunks``)."""
        def stream(self: Any, *args: Any, **kwargs: Any) -> Any:
            return self._open_stream(helper.plan(self, *args, **kwargs))
        return stream

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

    def _open_stream(self, request: StreamRequest) -> Any:
        return self._session.stream("GET", request.path, auth=request.auth, chunk_size=request.chunk_size)

    @classmethod
    def _shell(cls, helper: Helper) -> Any:
        if helper.kind == "stream":
            return cls._stream_shell(helper)
        if helper.kind == "download":
            def download(self: SyncClient, *args: Any, **kwargs: Any) -> Path:
                with HubConnectionError.during(f"{type(self).__name__}.{helper.name}()"):
                    self.detect_dialect()
                    request: DownloadRequest = helper.plan(self, *args, **kwargs)
                    saving = _Saving(request)
                    with self._open_stream(request.stream) as body, saving.open(body.response) as sink:
                        for chunk in body:
                            sink.write(chunk)
                    return saving.saved()
            return download

        def call(self: SyncClient, *args: Any, **kwargs: Any) -> Any:
            with HubConnectionError.during(f"{type(self).__name__}.{helper.name}()"):
                self.detect_dialect()
                return run_sync(helper.plan(self, *args, **kwargs), self._session)
        return call

    def detect_dialect(self) -> Dialect:
        """The Hub's dialect, asking the service once (``GET {base}/``) if it is not known yet.
        Thread-safe: concurrent first requests send one detection."""
        if self._dialect is None:
            with self._detect_lock:
                if self._dialect is None:
                    self._detected(run_sync(self._detect_plan(), self._session))
        return self.dialect

    def _queryset(self, resource: Resource) -> QuerySet[Any]:
        return QuerySet(resource, self)

    def fetch_page(self, resource: Resource, params: list[tuple[str, str]]) -> tuple[list[Any], dict]:
        """GET one list page (the QuerySet backend protocol): ``(models, meta)``. A QuerySet
        detects the dialect before it compiles the query (``detect_dialect()``)."""
        return parse_list(resource, perform(self._session, page_call(self, resource, params)))

    def close(self) -> None:
        """Close the HTTP connections (a ``client=`` you passed in stays open)."""
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(ConcurrentBackend, _ClientBase):
    """Base of the async clients: the same helpers, awaitable; iterate managers with ``async for``
    (the QuerySet plans the pages and bulk calls, :class:`ConcurrentBackend` runs them at once)."""

    _session_class = AsyncHubSession

    def __init__(self, *args: Any, page_concurrency: int | None = None, **kwargs: Any) -> None:
        """The sync client's arguments, plus ``page_concurrency``: list pages an ``async for``
        fetches at once after the first page gave the total (default 4; per query:
        ``qs.concurrency(n)``)."""
        from ..query import DEFAULT_PAGE_CONCURRENCY, check_concurrency

        concurrency = check_concurrency(DEFAULT_PAGE_CONCURRENCY if page_concurrency is None else page_concurrency)
        super().__init__(*args, **kwargs)
        self.page_concurrency: int = concurrency
        self._adetect_lock: anyio.Lock | None = None

    # what help() and inspect show: the sync client's parameters plus page_concurrency
    __init__.__signature__ = inspect.signature(_ClientBase.__init__).replace(parameters=[  # type: ignore[attr-defined]
        *inspect.signature(_ClientBase.__init__).parameters.values(),
        inspect.Parameter("page_concurrency", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="int | None")])

    def _open_stream(self, request: StreamRequest) -> Any:
        return self._session.astream("GET", request.path, auth=request.auth, chunk_size=request.chunk_size)

    @classmethod
    def _shell(cls, helper: Helper) -> Any:
        if helper.kind == "stream":
            return cls._stream_shell(helper)
        if helper.kind == "download":
            async def download(self: AsyncClient, *args: Any, **kwargs: Any) -> Path:
                with HubConnectionError.during(f"{type(self).__name__}.{helper.name}()"):
                    await self.detect_dialect()
                    request: DownloadRequest = helper.plan(self, *args, **kwargs)
                    saving = _Saving(request)
                    async with self._open_stream(request.stream) as body:
                        with saving.open(body.response) as sink:
                            async for chunk in body:
                                sink.write(chunk)
                    return saving.saved()
            return download

        async def call(self: AsyncClient, *args: Any, **kwargs: Any) -> Any:
            with HubConnectionError.during(f"{type(self).__name__}.{helper.name}()"):
                await self.detect_dialect()
                return await run_async(helper.plan(self, *args, **kwargs), self._session)
        return call

    async def detect_dialect(self) -> Dialect:
        """The Hub's dialect, asking the service once (``GET {base}/``) if it is not known yet.
        Concurrent first requests (tasks) send one detection."""
        if self._dialect is None:
            if self._adetect_lock is None:
                self._adetect_lock = anyio.Lock()
            async with self._adetect_lock:
                if self._dialect is None:
                    self._detected(await run_async(self._detect_plan(), self._session))
        return self.dialect

    def _queryset(self, resource: Resource) -> AsyncQuerySet[Any]:
        return AsyncQuerySet(resource, self)

    async def afetch_page(self, resource: Resource, params: list[tuple[str, str]]) -> tuple[list[Any], dict]:
        """GET one list page (the async QuerySet backend protocol): ``(models, meta)``."""
        return parse_list(resource, await aperform(self._session, page_call(self, resource, params)))

    async def aclose(self) -> None:
        """Close the HTTP connections (a ``client=`` you passed in stays open)."""
        await self._session.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
