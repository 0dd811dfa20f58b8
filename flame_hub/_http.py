"""The sessions every client request goes through: :class:`HubSession` (``httpx.Client``) and
:class:`AsyncHubSession` (``httpx.AsyncClient``). They check a call's arguments, build the
:mod:`flame_hub._flow` of the call and drive it with the package's one driver; the shells differ
only in carrying the steps out (:func:`~flame_hub._flow.carry_out` / ``acarry_out``).
"""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Awaitable, Callable, Collection, Generator
from typing import Any, ClassVar, Generic, TypeVar

import anyio
import httpx

from ._drive import adrive, drive
from ._flow import (
    DEFAULT,
    DEFAULT_TIMEOUT,
    USER_AGENT,
    as_timeout,
    default_ssl_context,
    SUCCESS,
    AuthArg,
    CallFlow,
    RetryPolicy,
    SendStep,
    Step,
    acarry_out,
    build_request,
    carry_out,
    warn_client_wins,
)
from ._pacing import RatePacer
from ._streams import AsyncByteStream, ByteStream, check_chunk_size
from .auth import StaticAuth

__all__ = [
    "DEFAULT",
    "DEFAULT_TIMEOUT",
    "SUCCESS",
    "AuthArg",
    "RetryPolicy",
    "RatePacer",
    "HubSession",
    "AsyncHubSession",
    "ByteStream",
    "AsyncByteStream",
]


def resolve_auth(auth: AuthArg) -> Any:
    """Per-call ``auth=``: DEFAULT (the session's), an ``httpx.Auth``, a bearer ``str``, or None."""
    if auth is DEFAULT:
        return httpx.USE_CLIENT_DEFAULT
    if auth is None or isinstance(auth, httpx.Auth):
        return auth
    if isinstance(auth, str):
        return StaticAuth(auth)
    raise ValueError(f"auth must be an httpx.Auth, a token string, None or DEFAULT, not {type(auth).__name__}")



def client_kwargs(base_url: str | None, auth: Any, timeout: Any, transport: Any) -> dict[str, Any]:
    if not isinstance(base_url, str) or not base_url.strip():
        raise ValueError("base_url is required (e.g. 'http://localhost:3000/core/') unless client= is given")
    base_url = base_url.strip()
    if not base_url.endswith("/"):
        base_url += "/"
    if auth is not None and not isinstance(auth, httpx.Auth):
        auth = resolve_auth(auth)
    kwargs = {
        "base_url": base_url,
        "auth": auth,
        "timeout": as_timeout(timeout),
        "transport": transport,
        "headers": {"Accept": "application/json", "User-Agent": USER_AGENT},
    }
    if transport is None:  # httpx's own transport (a given one brings its own TLS settings)
        kwargs["verify"] = default_ssl_context()
    return kwargs


class _Cookies(httpx.Cookies):
    """httpx's cookie jar, which skips the answers that set no cookie. httpx hands every answer
    to urllib's cookie machinery (a ``urllib.request.Request`` is built and the headers are
    searched: ~20 µs per request, a tenth of a ``get_node`` in memory); the Hub's answers set
    none, but a gateway in front of it may (a load balancer's sticky-session cookie), so answers
    with ``Set-Cookie``/``Set-Cookie2`` are still read as httpx reads them."""

    def extract_cookies(self, response: httpx.Response) -> None:
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


class _SkippingCookies:
    """For the httpx clients a session makes itself: their ``cookies`` are a :class:`_Cookies`
    (httpx reads and writes a client's cookies only through this property)."""

    _hub_cookies: _Cookies

    def __init__(self, *args: Any, cookies: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cookies = cookies

    @property
    def cookies(self) -> httpx.Cookies:
        return self._hub_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        self._hub_cookies = _Cookies(cookies)


class _Client(_SkippingCookies, httpx.Client):
    """The ``httpx.Client`` a :class:`HubSession` makes (see :class:`_SkippingCookies`)."""


class _AsyncClient(_SkippingCookies, httpx.AsyncClient):
    """The ``httpx.AsyncClient`` an :class:`AsyncHubSession` makes."""


_ClientT = TypeVar("_ClientT", httpx.Client, httpx.AsyncClient)
_ResponseT = TypeVar("_ResponseT", httpx.Response, Awaitable[httpx.Response])


class _Session(Generic[_ClientT, _ResponseT]):
    """What :class:`HubSession` and :class:`AsyncHubSession` share: construction, properties,
    :meth:`request` and the flow of one call. The shells only carry its steps out (send, read,
    sleep) and close."""

    _client_class: ClassVar[type[Any]]  # httpx.Client or httpx.AsyncClient
    _made_class: ClassVar[type[Any]]  # what the session makes itself: _Client or _AsyncClient
    _wrong_client: ClassVar[str]
    _default_sleep: ClassVar[Callable[..., Any]]

    def __init__(
        self,
        base_url: str | None = None,
        auth: httpx.Auth | str | None = None,
        *,
        client: _ClientT | None = None,
        timeout: httpx.Timeout | float | None = None,
        max_retries: int = 2,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
        sleep: Callable[[float], Any] | None = None,
        jitter: Callable[[], float] | None = None,
        pace: bool = True,
    ) -> None:
        if not isinstance(pace, bool):
            raise ValueError(f"pace must be True or False, not {pace!r}")
        self._core = CallFlow(max_retries, retry_policy, jitter)
        #: shared by every copy from :meth:`with_options` (one budget per Hub service)
        self._pacer = RatePacer(max_wait=self._core.policy.max_retry_after)
        self._pace = pace
        self._sleep = sleep or type(self)._default_sleep
        self._timeout: httpx.Timeout | None = None  # per-request override (with_options)
        self._client: _ClientT
        if client is not None:
            if not isinstance(client, self._client_class):
                raise ValueError(self._wrong_client)
            warn_client_wins(base_url, auth, timeout, transport)
            self._client, self._owns_client = client, False
        else:
            self._client = self._made_class(**client_kwargs(base_url, auth, timeout, transport))
            self._owns_client = True

    @property
    def client(self) -> _ClientT:
        """The underlying httpx client."""
        return self._client

    @property
    def base_url(self) -> httpx.URL:
        """The service base URL (always ends with ``/``)."""
        return self._client.base_url

    @property
    def max_retries(self) -> int:
        """Retries of idempotent requests unless a call says otherwise."""
        return self._core.policy.max_retries

    @property
    def pace(self) -> bool:
        """Whether requests wait for the Hub's rate-limit window to reset instead of running into
        429s (default True; costs nothing while the budget is comfortable). Settable."""
        return self._pace

    @pace.setter
    def pace(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise ValueError(f"pace must be True or False, not {value!r}")
        self._pace = value

    @property
    def pacer(self) -> RatePacer:
        """The session's view of the Hub's rate limit (``limit``, ``remaining``, ``in_flight``,
        ``waits``, ``waited``); shared with the copies :meth:`with_options` makes."""
        return self._pacer

    def with_options(self, *, max_retries: int | None = None,
                     timeout: httpx.Timeout | float | None = None) -> Any:
        """A session over the same connections, auth and client with other retry or timeout
        settings (it never closes the shared connections)."""
        clone = copy.copy(self)
        clone._owns_client = False
        if max_retries is not None:
            clone._core = CallFlow(max_retries, self._core.policy, self._core.jitter, self._core.clock)
        if timeout is not None:
            clone._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        return clone

    def _flow(self, method: str, path: str, expected: Collection[int], max_retries: int | None,
              auth: AuthArg, stream: bool, build: dict[str, Any]) -> Generator[Step, Any, httpx.Response]:
        """The checked arguments of one call, as the :meth:`CallFlow.flow` the shell carries out."""
        method, path = self._core.method(method), self._core.path(path)
        resolved = resolve_auth(auth)

        def send() -> SendStep:
            return SendStep(build_request(self._client, method, path, timeout=self._timeout, **build),
                         resolved, stream)

        return self._core.flow(method, expected, self._core.max_retries(max_retries), send,
                               self._pacer if self._pace else None)

    def _run(self, method: str, path: str, expected: Collection[int], max_retries: int | None,
             auth: AuthArg, stream: bool, **build: Any) -> _ResponseT:  # pragma: no cover - per shell
        raise NotImplementedError

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        auth: AuthArg = DEFAULT,
        expected: Collection[int] = (200,),
        max_retries: int | None = None,
    ) -> _ResponseT:
        """Send one call (with retries if idempotent) and return the answer (body read); on
        :class:`AsyncHubSession` await it.

        Raises the mapped :class:`~flame_hub.errors.HubAPIError` for a status not in
        ``expected`` and :class:`~flame_hub.errors.HubConnectionError` /
        :class:`~flame_hub.errors.HubTimeout` for transport failures. A DELETE that had to be
        retried and then answers 404 is returned as it is (the earlier attempt deleted it).
        """
        return self._run(method, path, expected, max_retries, auth, False,
                         params=params, json=json, data=data, files=files)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={str(self.base_url)!r}, max_retries={self.max_retries})"


class HubSession(_Session[httpx.Client, httpx.Response]):
    """Sends requests to one Hub service (sync).

    ``client`` (an ``httpx.Client``) wins over ``base_url``/``auth``/``timeout``/``transport``
    (a ``UserWarning`` says so when both are given) and is never closed by the session.
    ``max_retries`` wins over ``retry_policy.max_retries``; the policy sets the delays.
    ``pace`` (default True): wait for the Hub's rate-limit window to reset when its budget is
    used up, instead of running into 429s (see :class:`RatePacer`).
    ``sleep`` and ``jitter`` are injectable so tests do not wait.
    """

    _client_class = httpx.Client
    _made_class = _Client
    _wrong_client = "client must be an httpx.Client (use AsyncHubSession for an httpx.AsyncClient)"
    _default_sleep = staticmethod(time.sleep)

    def _run(self, method: str, path: str, expected: Collection[int], max_retries: int | None,
             auth: AuthArg, stream: bool, **build: Any) -> httpx.Response:
        # closed when interrupted mid-send: the request is no longer in flight
        flow = self._flow(method, path, expected, max_retries, auth, stream, build)
        return drive(flow, functools.partial(carry_out, self._client, self._sleep))

    def stream(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        auth: AuthArg = DEFAULT,
        chunk_size: int = 65536,
        expected: Collection[int] = (200,),
        max_retries: int | None = None,
    ) -> ByteStream:
        """Send the call now and return its body as an iterator of byte chunks.

        An error status raises here, before any byte is yielded.
        """
        chunk_size = check_chunk_size(chunk_size)
        response = self._run(method, path, expected, max_retries, auth, True, params=params)
        return ByteStream(response, chunk_size)

    def close(self) -> None:
        """Close the httpx client if the session created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> HubSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncHubSession(_Session[httpx.AsyncClient, Awaitable[httpx.Response]]):
    """Async twin of :class:`HubSession` over an ``httpx.AsyncClient`` (same flow, same rules;
    ``sleep`` is awaited)."""

    _client_class = httpx.AsyncClient
    _made_class = _AsyncClient
    _wrong_client = "client must be an httpx.AsyncClient (use HubSession for an httpx.Client)"
    _default_sleep = staticmethod(anyio.sleep)

    async def _run(self, method: str, path: str, expected: Collection[int], max_retries: int | None,
                   auth: AuthArg, stream: bool, **build: Any) -> httpx.Response:
        # closed when cancelled mid-send: the request is no longer in flight
        flow = self._flow(method, path, expected, max_retries, auth, stream, build)
        return await adrive(flow, functools.partial(acarry_out, self._client, self._sleep))

    def astream(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        auth: AuthArg = DEFAULT,
        chunk_size: int = 65536,
        expected: Collection[int] = (200,),
        max_retries: int | None = None,
    ) -> AsyncByteStream:
        """The body as async byte chunks: ``async for chunk in session.astream(...)`` or
        ``stream = await session.astream(...)`` (sends and checks the status first)."""
        chunk_size = check_chunk_size(chunk_size)
        return AsyncByteStream(
            lambda: self._run(method, path, expected, max_retries, auth, True, params=params), chunk_size
        )

    async def aclose(self) -> None:
        """Close the httpx client if the session created it."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> AsyncHubSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
