"""The measured workloads: the floor (raw ``httpx`` + ``json``) and our clients doing the same job.

Every workload is built as a function ``run(log) -> records`` that creates its clients (so a
run pays for its own token request and connections, like a script does), does the job, closes
everything, and returns the number of records it handled; :class:`~._measure.CountingTransport`
sits under each of its httpx clients. The floor sends exactly the requests our client sends:
the same list parameters (taken from the QuerySet, which compiles offline) and the same
single-record parameters (taken from the URL our client sent in a warm-up run).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

import flame_hub
from flame_hub._naming import to_camel
from flame_hub.models import model_for, page_adapter
from flame_hub.query import AsyncQuerySet
from flame_hub.query._values import plan_rows

from ._measure import AsyncCountingTransport, CountingTransport, RequestLog

__all__ = ["Target", "Run", "ListParams", "list_params", "concurrency_api", "floor_list", "async_floor_list",
           "client_list", "async_client_list", "floor_get", "client_get", "floor_first", "client_first",
           "VALUES_FIELDS", "values_params", "floor_values", "client_values",
           "token", "http_transport", "async_http_transport"]

Run = Callable[[RequestLog], int]
Pairs = list[tuple[str, str]]

#: the same timeouts as the library's sessions (connect 5 s, the rest 30 s)
TIMEOUT = httpx.Timeout(30.0, connect=5.0)


@functools.lru_cache(maxsize=None)
def _ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def http_transport() -> httpx.HTTPTransport:
    """A socket transport sharing one SSL context: building a context costs ~25 ms of CPU,
    a one-off cost per client that would otherwise swamp the per-request costs measured here
    (it is measured on its own, see ``setup_cost``)."""
    return httpx.HTTPTransport(verify=_ssl_context())


def async_http_transport() -> httpx.AsyncHTTPTransport:
    """The async twin of :func:`http_transport`."""
    return httpx.AsyncHTTPTransport(verify=_ssl_context())


@dataclass(frozen=True)
class Target:
    """Where the workloads send: the fake Hub's gateway URL (``http://127.0.0.1:PORT/``) and
    the transports to send with (real sockets by default; ``FakeHub.transport`` in unit tests)."""

    url: str
    transport: Callable[[], httpx.BaseTransport] = http_transport
    async_transport: Callable[[], httpx.AsyncBaseTransport] = async_http_transport
    username: str = "admin"
    password: str = field(default="start123", repr=False)

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")) or not self.url.endswith("/"):
            raise ValueError(f"url must be a gateway base such as 'http://127.0.0.1:3000/', not {self.url!r}")

    @property
    def auth_url(self) -> str:
        return self.url + "auth/"

    @property
    def core_url(self) -> str:
        return self.url + "core/"

    def grant(self) -> dict[str, str]:
        return {"grant_type": "password", "username": self.username, "password": self.password}


def token(http: httpx.Client, target: Target) -> dict[str, str]:
    """Log in with raw httpx; returns the ``Authorization`` header."""
    response = http.post(target.auth_url + "token", json=target.grant())
    response.raise_for_status()
    return {"Authorization": f"Bearer {json.loads(response.content)['access_token']}"}


# ------------------------------------------------------------------ what the floor must send
@dataclass(frozen=True)
class ListParams:
    """The list request of ``core.nodes`` without paging (``sort=createdAt``, ...) and its page size."""

    base: Pairs
    page_size: int


def list_params(target: Target) -> ListParams:
    """What our sync client sends to list every node (compiled offline, no request)."""
    core = flame_hub.CoreClient(base_url=target.core_url)
    try:
        first = dict(core.nodes.params())
        return ListParams(base=list(core.nodes.params(page=False)), page_size=int(first["page[limit]"]))
    finally:
        core.close()


def concurrency_api() -> str | None:
    """How this version of the client sets the async page concurrency: ``"queryset"``
    (``qs.concurrency(n)``), ``"client:<param>"`` (a keyword of ``AsyncCoreClient``) or None
    (async listing is sequential)."""
    if callable(getattr(AsyncQuerySet, "concurrency", None)):
        return "queryset"
    for name in inspect.signature(flame_hub.AsyncCoreClient.__init__).parameters:
        if "concurrency" in name:
            return f"client:{name}"
    return None


# ------------------------------------------------------------------ listing
def floor_list(target: Target, params: ListParams, pick: Callable[[dict], Any] | None = None, *,
               models: bool = False) -> Run:
    """Raw httpx + json: page through ``core/nodes`` as the Hub's own kits do (advance by the
    records received, stop on an empty page or at ``meta.total``); ``pick`` is applied to each
    record (the row a script builds by hand). ``models=True``: each page is validated into our
    ``Node`` models with pydantic instead of ``json.loads`` (what validation alone costs, without
    any of the client's layers)."""
    adapter = page_adapter(model_for("nodes")) if models else None

    def run(log: RequestLog) -> int:
        with httpx.Client(transport=CountingTransport(target.transport(), log), timeout=TIMEOUT) as http:
            headers = token(http, target)
            url, n, offset = target.core_url + "nodes", 0, 0
            while True:
                pairs = [*params.base, ("page[limit]", str(params.page_size)), ("page[offset]", str(offset))]
                response = http.get(url, params=pairs, headers=headers)
                response.raise_for_status()
                if adapter is not None:
                    page = adapter.validate_json(response.content)
                    body, data = {"meta": page.meta}, page.data
                else:
                    body = json.loads(response.content)
                    data = body["data"]
                for record in data:
                    if pick is not None:
                        pick(record)
                    n += 1
                offset += len(data)
                if not data or offset >= body["meta"]["total"]:
                    return n

    return run


def async_floor_list(target: Target, params: ListParams, concurrency: int) -> Run:
    """Raw ``httpx.AsyncClient`` + json: the first page gives ``meta.total``, then the remaining
    pages are fetched ``concurrency`` at a time (``asyncio.gather``) and read in order — what
    concurrent paging can give on this server at best."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, not {concurrency!r}")

    async def main(log: RequestLog) -> int:
        async with httpx.AsyncClient(transport=AsyncCountingTransport(target.async_transport(), log),
                                     timeout=TIMEOUT) as http:
            response = await http.post(target.auth_url + "token", json=target.grant())
            response.raise_for_status()
            headers = {"Authorization": f"Bearer {json.loads(response.content)['access_token']}"}
            url = target.core_url + "nodes"

            async def page(offset: int) -> list[Any]:
                pairs = [*params.base, ("page[limit]", str(params.page_size)), ("page[offset]", str(offset))]
                answer = await http.get(url, params=pairs, headers=headers)
                answer.raise_for_status()
                body = json.loads(answer.content)
                meta["total"] = body["meta"]["total"]
                return body["data"]

            meta: dict[str, int] = {}
            n = 0
            first = await page(0)
            for _record in first:
                n += 1
            offsets = list(range(len(first), meta["total"], params.page_size)) if first else []
            for i in range(0, len(offsets), concurrency):
                for data in await asyncio.gather(*(page(o) for o in offsets[i:i + concurrency])):
                    for _record in data:
                        n += 1
            return n

    def run(log: RequestLog) -> int:
        return asyncio.run(main(log))

    return run


def _password_auth(target: Target, **kwargs: Any) -> flame_hub.auth.PasswordAuth:
    return flame_hub.auth.PasswordAuth(target.username, target.password, base_url=target.auth_url, **kwargs)


def client_list(target: Target, view: Callable[[Any], Any] | None = None) -> Run:
    """Our sync client: ``for node in core.nodes`` (or over ``view(core.nodes)``, e.g. its
    ``values(...)``)."""

    def run(log: RequestLog) -> int:
        with httpx.Client(transport=CountingTransport(target.transport(), log), timeout=TIMEOUT) as token_http:
            auth = _password_auth(target, client=token_http)
            with flame_hub.CoreClient(base_url=target.core_url, auth=auth,
                                      transport=CountingTransport(target.transport(), log)) as core:
                n = 0
                for _node in (core.nodes if view is None else view(core.nodes)):
                    n += 1
                return n

    return run


# ------------------------------------------------------------------ rows (values)
#: the fields of the ``values()`` workload: a typical analyst's selection
VALUES_FIELDS = ("id", "name", "created_at")


def values_params(target: Target, fields: Sequence[str] = VALUES_FIELDS) -> ListParams:
    """What ``core.nodes.values(*fields)`` sends to a current Hub (compiled offline, no request)."""
    core = flame_hub.CoreClient(base_url=target.core_url)
    try:
        qs = plan_rows(core.nodes, tuple(fields), "dict").queryset
        first = dict(qs.params())
        return ListParams(base=list(qs.params(page=False)), page_size=int(first["page[limit]"]))
    finally:
        core.close()


def floor_values(target: Target, params: ListParams, fields: Sequence[str] = VALUES_FIELDS) -> Run:
    """Raw httpx + json asking for the same fields, each record turned into a dict by hand."""
    keys = [(name, to_camel(name)) for name in fields]
    return floor_list(target, params, pick=lambda record: {name: record[wire] for name, wire in keys})


def client_values(target: Target, fields: Sequence[str] = VALUES_FIELDS) -> Run:
    """Our sync client: ``for row in core.nodes.values(*fields)``."""
    return client_list(target, view=lambda nodes: nodes.values(*fields))


def async_client_list(target: Target, concurrency: int | None, *, pace: bool = True) -> Run:
    """Our async client: ``async for node in core.nodes`` with this page concurrency (when the
    client has a way to set it, see :func:`concurrency_api`; ``None``: the client's default).
    ``pace=False`` turns the session's rate-limit pacing off (``core.session.pace``)."""
    api = concurrency_api()

    async def main(log: RequestLog) -> int:
        client_kwargs: dict[str, Any] = {}
        if concurrency is not None and api is not None and api.startswith("client:"):
            client_kwargs[api.partition(":")[2]] = concurrency
        async with httpx.AsyncClient(transport=AsyncCountingTransport(target.async_transport(), log),
                                     timeout=TIMEOUT) as token_http:
            auth = _password_auth(target, async_client=token_http)
            async with flame_hub.AsyncCoreClient(
                    base_url=target.core_url, auth=auth,
                    transport=AsyncCountingTransport(target.async_transport(), log), **client_kwargs) as core:
                if not pace:
                    core.session.pace = False
                qs = core.nodes
                if concurrency is not None and api == "queryset":
                    qs = qs.concurrency(concurrency)
                n = 0
                async for _node in qs:
                    n += 1
                return n

    def run(log: RequestLog) -> int:
        return asyncio.run(main(log))

    return run


# ------------------------------------------------------------------ single records
def floor_get(target: Target, ids: Sequence[str], params: Pairs) -> Run:
    """Raw httpx + json: ``GET core/nodes/<id>`` with the query our ``get_node`` sends."""

    def run(log: RequestLog) -> int:
        with httpx.Client(transport=CountingTransport(target.transport(), log), timeout=TIMEOUT) as http:
            headers = token(http, target)
            n = 0
            for ident in ids:
                response = http.get(f"{target.core_url}nodes/{ident}", params=params, headers=headers)
                response.raise_for_status()
                if json.loads(response.content)["data"] is not None:
                    n += 1
            return n

    return run


def client_get(target: Target, ids: Sequence[str]) -> Run:
    """Our sync client: ``core.get_node(id)`` per id."""

    def run(log: RequestLog) -> int:
        with httpx.Client(transport=CountingTransport(target.transport(), log), timeout=TIMEOUT) as token_http:
            auth = _password_auth(target, client=token_http)
            with flame_hub.CoreClient(base_url=target.core_url, auth=auth,
                                      transport=CountingTransport(target.transport(), log)) as core:
                n = 0
                for ident in ids:
                    if core.get_node(ident) is not None:
                        n += 1
                return n

    return run


# ------------------------------------------------------------------ one-off setup
def floor_first(target: Target) -> Run:
    """Raw httpx as a script starts: a default ``httpx.Client()``, log in, read one node."""

    def run(log: RequestLog) -> int:
        with httpx.Client(transport=CountingTransport(httpx.HTTPTransport(), log), timeout=TIMEOUT) as http:
            headers = token(http, target)
            response = http.get(target.core_url + "nodes", headers=headers,
                                params={"page[limit]": "1", "page[offset]": "0"})
            response.raise_for_status()
            return len(json.loads(response.content)["data"])

    return run


def client_first(target: Target) -> Run:
    """Our client as a script starts: default ``PasswordAuth`` and ``CoreClient`` (each builds its
    own httpx client), ``core.nodes.first()``. The token request is not counted (the auth's
    internal client is not ours to wrap)."""

    def run(log: RequestLog) -> int:
        auth = _password_auth(target)
        try:
            with flame_hub.CoreClient(base_url=target.core_url, auth=auth,
                                      transport=CountingTransport(httpx.HTTPTransport(), log)) as core:
                return 0 if core.nodes.first() is None else 1
        finally:
            auth.close()

    return run
