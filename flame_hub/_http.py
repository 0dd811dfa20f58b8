"""The only place that sends: request building, retries, error mapping, envelope unwrapping.

One sans-IO core (:class:`_Core`: auth resolution, the retry state machine
:meth:`_Core.flow` that yields the I/O steps of one call, delays), a shared session base
(construction, properties, ``request``) and two thin shells that only carry the steps out:
:class:`HubSession` (``httpx.Client``) and :class:`AsyncHubSession` (``httpx.AsyncClient``).

Retries (issue 5 §3; design-anchors.md §4): idempotent methods only (GET, HEAD, OPTIONS,
DELETE) on connection errors, timeouts, 502/503/504 and 429, with exponential backoff and
jitter; ``Retry-After`` (seconds or HTTP date) is honoured up to a cap, a longer wait is not
retried. POST (creates, updates, commands) is never retried: the Hub has no idempotency keys
and a failed create may have half happened (hub-spec README, "Rate limits").

Rate-limit pacing (issue 6 §3): the Hub answers every request with ``ratelimit-limit``,
``ratelimit-remaining`` and ``ratelimit-reset`` and refuses with 429 beyond the limit. Each
session keeps one :class:`RatePacer`, shared by every thread and task that uses the session:
while the budget is comfortable a request costs it one subtraction and one comparison; when the
budget of the current window is used up (down to the requests in flight plus a small reserve),
requests wait until the window resets instead of running into 429s. ``pace=False`` turns it off.
"""

from __future__ import annotations

import copy
import logging
import math
import random
import sys
import threading
import time
import warnings
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Generator, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar, Union

import anyio
import httpx

from ._drive import adrive, drive
from .auth import StaticAuth
from ._responses import (
    connection_error_from,
    error_from_response,
    json_or_none,
    retry_after_seconds,
)
from .errors import HubConnectionError, HubError, redact_url

__all__ = [
    "DEFAULT",
    "DEFAULT_TIMEOUT",
    "SUCCESS",
    "RetryPolicy",
    "RatePacer",
    "HubSession",
    "AsyncHubSession",
    "ByteStream",
    "AsyncByteStream",
]

log = logging.getLogger("flame_hub.http")


class _Default:
    """Sentinel type of :data:`DEFAULT`."""

    _instance: _Default | None = None

    def __new__(cls) -> _Default:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "DEFAULT"


#: Per-call ``auth=`` sentinel: use the session's auth.
DEFAULT: Any = _Default()
#: connect 5 s; read, write and pool 30 s (a streamed download times out per chunk, not per file)
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
#: ``expected=SUCCESS`` accepts any 2xx answer
SUCCESS: Collection[int] = range(200, 300)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})


def _user_agent() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        own = version("flame-hub-client")
    except (ImportError, PackageNotFoundError):  # running from a source tree
        own = "dev"
    return f"flame-hub-client/{own} python-httpx/{httpx.__version__}"


_USER_AGENT = _user_agent()

AuthArg = Union[httpx.Auth, str, None, _Default]


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before sending an idempotent request again."""

    max_retries: int = 2
    #: backoff: ``initial_delay * 2**attempt``, capped at ``max_delay``, minus up to 25 % jitter
    initial_delay: float = 0.5
    max_delay: float = 8.0
    #: a ``Retry-After`` longer than this is not waited for: the error is raised instead
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if not isinstance(self.max_retries, int) or isinstance(self.max_retries, bool) or self.max_retries < 0:
            raise ValueError(f"max_retries must be an int >= 0, not {self.max_retries!r}")
        for name in ("initial_delay", "max_delay", "max_retry_after"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")

    def delay(self, attempt: int, response: httpx.Response | None, jitter: float) -> float | None:
        """Seconds to wait before retry ``attempt + 1``; ``None`` means "do not retry".

        ``jitter`` is a number in [0, 1).
        """
        if response is not None:
            wait = retry_after_seconds(
                response.headers, json_or_none(response), rate_limit=response.status_code == 429
            )
            if wait is not None:
                return wait if wait <= self.max_retry_after else None
        backoff = min(self.initial_delay * (2**attempt), self.max_delay)
        return backoff * (1.0 - 0.25 * jitter)


def _retryable_exception(exc: BaseException) -> bool:
    """Transport failures worth another try (not: unsupported scheme, bad request line, ...)."""
    if isinstance(exc, HubConnectionError):  # raised inside an auth flow's token request
        exc = exc.__cause__ if exc.__cause__ is not None else exc
        if isinstance(exc, HubConnectionError):
            return True
    return isinstance(exc, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError))


# ---------------------------------------------------------------------------- rate-limit pacing
_UNLIMITED = sys.maxsize
#: how long to wait for an answer that tells when the window ends (all of its budget in flight)
_POLL = 0.05
_R = frozenset(b"rR")


def rate_limit_values(headers: httpx.Headers) -> tuple[int | None, int, float | None] | None:
    """``(limit, remaining, reset seconds)`` of an answer's ``ratelimit-*`` headers, or None when
    it has no (valid) ``ratelimit-remaining``. ``reset`` is seconds until the window ends (an
    epoch timestamp, as some servers send, is converted)."""
    raw_limit = raw_remaining = raw_reset = None
    for key, value in headers.raw:  # one pass over the raw pairs: cheaper than three lookups
        if len(key) >= 15 and key[0] in _R:
            key = key.lower()
            if key == b"ratelimit-remaining":
                raw_remaining = value
            elif key == b"ratelimit-reset":
                raw_reset = value
            elif key == b"ratelimit-limit":
                raw_limit = value
    if raw_remaining is None:
        return None
    try:
        remaining = int(raw_remaining)
    except ValueError:
        return None
    limit: int | None
    try:
        limit = None if raw_limit is None else int(raw_limit)
    except ValueError:
        limit = None
    reset: float | None
    try:
        reset = None if raw_reset is None else float(raw_reset)
    except ValueError:
        reset = None
    if reset is not None:
        if not math.isfinite(reset):
            reset = None
        elif reset > 1e9:  # an epoch timestamp, not a number of seconds
            reset = max(0.0, reset - time.time())
        elif reset < 0:
            reset = 0.0
    return limit, max(0, remaining), reset


class RatePacer:
    """What a session knows of the Hub's rate-limit window; shared by all its threads and tasks.

    The Hub counts requests per client address in fixed windows and reports, on every answer,
    the window's ``limit``, the ``remaining`` budget after this request and the whole seconds
    until the window ``reset`` (rounded up; hub-spec README "Rate limits"). So an answer received
    at ``now`` to a request sent at ``sent`` was counted in a window that ends in
    ``(sent + reset - 1, now + reset]``.

    For the current window the pacer keeps the lowest ``remaining`` reported, the earliest
    ``now + reset`` (the window surely ends by then) and the requests in flight. A request is sent
    at once while ``remaining - in_flight > reserve`` — the common case, one subtraction and one
    comparison under an uncontended lock. Otherwise it waits until the window has surely ended.
    The next window's budget is then the limit less every request answered since the window could
    have ended (those may already count in the next one: a window can roll over unnoticed while
    the seconds are rounded); an answer that can only come from a later window ends the current
    one at once. Each estimate errs on the safe side, so a client alone on its address gets no
    429; for windows of only a second or two the rounding costs some of the budget.

    The budget is not spread over the window: sending each request as soon as the Hub accepts it
    finishes every job at least as early, and a job that fits into the budget never waits.

    ``margin``: requests kept in reserve for other traffic on the same counter (at most 1/50 of
    the limit, so small test limits are not eaten up); ``max_wait``: a window that ends later than
    this is not waited for (the request is sent and the Hub decides). Methods take ``now``
    (monotonic seconds), so the pacer is a pure state machine. Statistics: ``waits`` (times a
    request was told to wait) and ``waited`` (seconds it was told to wait, in total).
    """

    def __init__(self, *, margin: int = 2, max_wait: float = 60.0) -> None:
        if not isinstance(margin, int) or isinstance(margin, bool) or margin < 0:
            raise ValueError(f"margin must be an int >= 0, not {margin!r}")
        if isinstance(max_wait, bool) or not isinstance(max_wait, (int, float)) or max_wait < 0:
            raise ValueError(f"max_wait must be a number of seconds >= 0, not {max_wait!r}")
        self.margin = margin
        self.max_wait = float(max_wait)
        self.waits = 0
        self.waited = 0.0
        self._lock = threading.Lock()
        self._limit: int | None = None
        self._reserve = 0
        self._in_flight = 0
        self._epoch = 0  # the pacer's count of windows; a ticket is the window a request was sent in
        self._remaining = _UNLIMITED  # lowest remaining reported in this window, or its fresh budget
        self._ends = math.inf  # this window surely ends by then (monotonic seconds)
        self._floor = -math.inf  # ... and not before then (from the answer that gave ``_ends``)
        self._answered = 0  # answers counted for this window
        #: recent answers as (received, window ends by, window ends after); only those of about the
        #: last two seconds before ``_ends`` are kept
        self._recent: deque[tuple[float, float, float]] = deque()
        self._logged = -1  # the window a wait was last logged in (at INFO once per window)

    @property
    def limit(self) -> int | None:
        """The limit per window the Hub last reported (None before the first answer)."""
        return self._limit

    @property
    def remaining(self) -> int | None:
        """The budget left in the current window as far as known (None: no limit reported)."""
        remaining = self._remaining
        return None if remaining == _UNLIMITED else remaining

    @property
    def in_flight(self) -> int:
        """Requests sent and not answered yet."""
        return self._in_flight

    def acquire(self, now: float) -> tuple[int, float]:
        """Before a request: ``(ticket, 0.0)`` — send it now and hand ``ticket`` to
        :meth:`settle` afterwards — or ``(-1, seconds)``: wait that long, then ask again."""
        with self._lock:
            if self._remaining - self._in_flight > self._reserve:  # the common case
                self._in_flight += 1
                return self._epoch, 0.0
            return self._acquire_low(now)

    def _acquire_low(self, now: float) -> tuple[int, float]:
        if now >= self._ends:
            self._advance(now)
            if self._remaining - self._in_flight > self._reserve:
                self._in_flight += 1
                return self._epoch, 0.0
        if self._ends == math.inf:
            if self._answered or not self._in_flight:
                # the Hub does not say when the window ends: there is nothing to wait for
                self._in_flight += 1
                return self._epoch, 0.0
            wait = _POLL  # the whole budget is in flight: its answers will tell
        else:
            wait = self._ends - now
        if wait > self.max_wait:
            self._in_flight += 1
            return self._epoch, 0.0
        log.log(logging.INFO if self._logged != self._epoch else logging.DEBUG,
                "rate limit: %s of %s requests left in this window, %d in flight; waiting %.2f s",
                self.remaining, self._limit, self._in_flight, wait)
        self._logged = self._epoch
        self.waits += 1
        self.waited += wait
        return -1, wait

    def _advance(self, now: float) -> None:
        """The window is over; start the next one."""
        recent = self._recent
        floor = self._floor
        while recent and recent[0][0] < floor:
            recent.popleft()  # answered before the window could end: counted in it
        self._epoch += 1
        self._answered = 0
        ends = max(r[1] for r in recent) if recent else -math.inf
        if ends > now:  # answers that may count in the new window, and when theirs ends
            spent = len(recent)
            self._ends = ends
            self._floor = max(r[2] for r in recent)
        else:  # every window they may count in is over
            recent.clear()
            spent = 0
            self._ends, self._floor = math.inf, -math.inf
        self._remaining = _UNLIMITED if self._limit is None else max(0, self._limit - spent)

    def settle(self, ticket: int, response: httpx.Response | None, now: float, sent: float) -> None:
        """After a request: learn from its answer (``None``: it failed without one). ``sent`` is
        the ``now`` the ticket was acquired at."""
        values = rate_limit_values(response.headers) if response is not None else None
        with self._lock:
            self._in_flight -= 1
            if values is None:
                return
            limit, remaining, reset = values
            if limit is not None and limit != self._limit:
                self._limit = limit
                self._reserve = min(self.margin, limit // 50)
            if reset is None:  # no window: only the lowest remaining is known
                if ticket == self._epoch:
                    self._answered += 1
                    self._remaining = min(self._remaining, remaining)
                return
            ends = now + reset
            floor = sent + reset - 1.0
            # more than rounding and the round trip explain: counted in a later window
            later = ends >= self._ends + 1.0 + (now - sent)
            if later or now >= self._ends:
                self._advance(now)  # the window is over
            keep_after = self._floor - 1.0  # older answers cannot matter when this window ends
            if now >= keep_after:
                recent = self._recent
                recent.append((now, ends, floor))
                while recent[0][0] < keep_after:
                    recent.popleft()
            if ticket != self._epoch and not later:
                # sent in an earlier window: it may count in this one
                if 0 < self._remaining < _UNLIMITED:
                    self._remaining -= 1
                return
            self._answered += 1
            if remaining < self._remaining:
                self._remaining = remaining
            if ends < self._ends:
                self._ends, self._floor = ends, floor

    def __repr__(self) -> str:
        return (f"RatePacer(limit={self._limit}, remaining={self.remaining}, in_flight={self._in_flight}, "
                f"waits={self.waits})")


@dataclass(frozen=True)
class _Send:
    """Step of :meth:`_Core.flow`: send ``request``; the shell answers with the response or the
    transport exception (``httpx.RequestError``, or :class:`HubConnectionError` from an auth flow)."""

    request: httpx.Request
    auth: Any
    stream: bool


@dataclass(frozen=True)
class _Drain:
    """Step: read the rest of a streamed answer that is not accepted (the error is built from its
    body), then close it."""

    response: httpx.Response


@dataclass(frozen=True)
class _Sleep:
    """Step: wait this long before the next attempt."""

    seconds: float


_Step = Union[_Send, _Drain, _Sleep]


class _Core:
    """Everything about sending that does not touch the network."""

    def __init__(
        self,
        max_retries: int,
        retry_policy: RetryPolicy | None,
        jitter: Callable[[], float] | None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        policy = retry_policy or RetryPolicy()
        if max_retries != policy.max_retries:
            policy = RetryPolicy(max_retries, policy.initial_delay, policy.max_delay, policy.max_retry_after)
        self.policy = policy
        self.jitter = jitter or random.random
        self.clock = clock or time.monotonic

    @staticmethod
    def resolve_auth(auth: AuthArg) -> Any:
        """Per-call ``auth=``: DEFAULT (the session's), an ``httpx.Auth``, a bearer ``str``, or None."""
        if auth is DEFAULT:
            return httpx.USE_CLIENT_DEFAULT
        if auth is None or isinstance(auth, httpx.Auth):
            return auth
        if isinstance(auth, str):
            return StaticAuth(auth)
        raise ValueError(f"auth must be an httpx.Auth, a token string, None or DEFAULT, not {type(auth).__name__}")

    @staticmethod
    def method(method: str) -> str:
        if not isinstance(method, str) or not method.strip():
            raise ValueError(f"not an HTTP method: {method!r}")
        return method.strip().upper()

    @staticmethod
    def path(path: str) -> str:
        """Relative to the base URL, so a gateway prefix (``/core/``) is kept."""
        if not isinstance(path, str):
            raise ValueError(f"path must be a string, not {type(path).__name__}")
        return path if "://" in path else path.lstrip("/")

    def max_retries(self, per_call: int | None) -> int:
        if per_call is None:
            return self.policy.max_retries
        if not isinstance(per_call, int) or isinstance(per_call, bool) or per_call < 0:
            raise ValueError(f"max_retries must be an int >= 0, not {per_call!r}")
        return per_call

    def flow(
        self, method: str, expected: Collection[int], max_retries: int, send: Callable[[], _Send],
        pacer: RatePacer | None = None,
    ) -> Generator[_Step, Any, httpx.Response]:
        """The retry state machine of one call.

        Yields the I/O steps a shell carries out: a :class:`_Send` (``send()`` builds a fresh one
        per attempt), a :class:`_Drain` or a :class:`_Sleep` (their answers are ignored). Returns
        the accepted response or raises the mapped error. With a ``pacer``, every attempt first
        waits (``_Sleep``) until the pacer lets it go, and the pacer learns from every answer;
        close the generator if the shell gives up mid-send (the request is then no longer in
        flight).
        """
        attempt = 0
        while True:
            step = send()
            if pacer is None:
                outcome = yield step
            else:
                sent = self.clock()
                ticket, wait = pacer.acquire(sent)
                while ticket < 0:
                    yield _Sleep(wait)
                    sent = self.clock()
                    ticket, wait = pacer.acquire(sent)
                try:
                    outcome = yield step
                except BaseException:  # closed or thrown into mid-send (cancelled): no answer
                    pacer.settle(ticket, None, self.clock(), sent)
                    raise
                pacer.settle(ticket, outcome if isinstance(outcome, httpx.Response) else None,
                             self.clock(), sent)
            response = outcome if isinstance(outcome, httpx.Response) else None
            if response is not None:
                if step.stream and response.status_code not in expected:
                    yield _Drain(response)
                if response.status_code in expected:
                    return response
                if method == "DELETE" and attempt > 0 and response.status_code == 404:
                    # an earlier attempt may have deleted it before the answer got lost: done
                    return response
                retry = response.status_code in RETRY_STATUSES
            else:
                retry = _retryable_exception(outcome)
            delay: float | None = None
            if retry and method in IDEMPOTENT_METHODS and attempt < max_retries:
                delay = self.policy.delay(attempt, response, self.jitter())
            if delay is None:
                if response is not None:
                    raise error_from_response(response)
                if isinstance(outcome, HubConnectionError):  # from an auth flow's token request
                    outcome.attempts = outcome.attempts or attempt + 1
                    raise outcome
                assert isinstance(outcome, httpx.RequestError)
                raise connection_error_from(outcome, attempts=attempt + 1) from outcome
            attempt += 1
            what = response.status_code if response is not None else type(outcome).__name__
            url = redact_url(response.request.url) if response is not None else None
            log.info("retrying %s %s after %s in %.2f s (retry %d of %d)", method, url or "", what, delay,
                     attempt, max_retries)
            yield _Sleep(delay)


def _timeout(timeout: httpx.Timeout | float | None) -> httpx.Timeout:
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
        return httpx.Timeout(float(timeout))
    raise ValueError(f"timeout must be an httpx.Timeout or a number of seconds > 0, not {timeout!r}")


def _client_kwargs(base_url: str | None, auth: Any, timeout: Any, transport: Any) -> dict[str, Any]:
    if not isinstance(base_url, str) or not base_url.strip():
        raise ValueError("base_url is required (e.g. 'http://localhost:3000/core/') unless client= is given")
    base_url = base_url.strip()
    if not base_url.endswith("/"):
        base_url += "/"
    if auth is not None and not isinstance(auth, httpx.Auth):
        auth = _Core.resolve_auth(auth)
    return {
        "base_url": base_url,
        "auth": auth,
        "timeout": _timeout(timeout),
        "transport": transport,
        "headers": {"Accept": "application/json", "User-Agent": _USER_AGENT},
    }


def warn_client_wins(base_url: Any, auth: Any, timeout: Any, transport: Any) -> None:
    ignored = [n for n, v in (("base_url", base_url), ("auth", auth), ("timeout", timeout), ("transport", transport))
               if v is not None]
    if ignored:
        warnings.warn(
            f"client= was given, so {', '.join(ignored)} {'is' if len(ignored) == 1 else 'are'} ignored: "
            "configure the httpx client itself instead",
            UserWarning,
            stacklevel=3,
        )


def _build(client: httpx.Client | httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Request:
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    return client.build_request(method, path, **kwargs)


# ---------------------------------------------------------------------------- byte streams
class ByteStream(Iterator[bytes]):
    """The body of a streamed answer, chunk by chunk; closes the response when exhausted.

    Use it in a ``with`` block (or exhaust it) so the connection is released. Transport
    failures while reading raise :class:`~flame_hub.errors.HubConnectionError`.
    """

    def __init__(self, response: httpx.Response, chunk_size: int) -> None:
        self.response = response
        self._chunks = response.iter_bytes(chunk_size)

    def __iter__(self) -> ByteStream:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except StopIteration:
            self.close()
            raise
        except httpx.RequestError as exc:
            self.close()
            raise connection_error_from(exc, self.response.request) from exc

    def close(self) -> None:
        """Release the connection (the rest of the body is dropped)."""
        self.response.close()

    def __enter__(self) -> ByteStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncByteStream(AsyncIterator[bytes]):
    """Async twin of :class:`ByteStream`. The request is sent on ``await`` or on the first
    ``async for`` step (``async with`` too); an error status raises before any byte."""

    def __init__(self, start: Callable[[], Awaitable[httpx.Response]], chunk_size: int) -> None:
        self._start = start
        self._chunk_size = chunk_size
        self.response: httpx.Response | None = None
        self._chunks: AsyncIterator[bytes] | None = None
        self._closed = False

    async def _open(self) -> AsyncByteStream:
        if self._closed:
            raise HubError("the stream is closed")
        if self.response is None:
            self.response = await self._start()
            self._chunks = self.response.aiter_bytes(self._chunk_size)
        return self

    def __await__(self) -> Generator[Any, None, AsyncByteStream]:
        return self._open().__await__()

    def __aiter__(self) -> AsyncByteStream:
        return self

    async def __anext__(self) -> bytes:
        await self._open()
        assert self._chunks is not None and self.response is not None
        try:
            return await self._chunks.__anext__()
        except StopAsyncIteration:
            await self.aclose()
            raise
        except httpx.RequestError as exc:
            await self.aclose()
            raise connection_error_from(exc, self.response.request) from exc

    async def aclose(self) -> None:
        """Release the connection (the rest of the body is dropped)."""
        self._closed = True
        if self.response is not None:
            await self.response.aclose()

    async def __aenter__(self) -> AsyncByteStream:
        return await self._open()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _check_chunk_size(chunk_size: int) -> int:
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size <= 0:
        raise ValueError(f"chunk_size must be a positive int, not {chunk_size!r}")
    return chunk_size


# ---------------------------------------------------------------------------- sessions
_ClientT = TypeVar("_ClientT", httpx.Client, httpx.AsyncClient)
_ResponseT = TypeVar("_ResponseT", httpx.Response, Awaitable[httpx.Response])


class _Session(Generic[_ClientT, _ResponseT]):
    """What :class:`HubSession` and :class:`AsyncHubSession` share: construction, properties,
    :meth:`request` and the flow of one call. The shells only carry its steps out (send, read,
    sleep) and close."""

    _client_class: ClassVar[type[Any]]  # httpx.Client or httpx.AsyncClient
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
        self._core = _Core(max_retries, retry_policy, jitter)
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
            self._client = self._client_class(**_client_kwargs(base_url, auth, timeout, transport))
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
            clone._core = _Core(max_retries, self._core.policy, self._core.jitter, self._core.clock)
        if timeout is not None:
            clone._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        return clone

    def _flow(self, method: str, path: str, expected: Collection[int], max_retries: int | None,
              auth: AuthArg, stream: bool, build: dict[str, Any]) -> Generator[_Step, Any, httpx.Response]:
        """The checked arguments of one call, as the :meth:`_Core.flow` the shell carries out."""
        method, path = self._core.method(method), self._core.path(path)
        resolved = self._core.resolve_auth(auth)

        def send() -> _Send:
            return _Send(_build(self._client, method, path, timeout=self._timeout, **build),
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
    _wrong_client = "client must be an httpx.Client (use AsyncHubSession for an httpx.AsyncClient)"
    _default_sleep = staticmethod(time.sleep)

    def _run(self, method: str, path: str, expected: Collection[int], max_retries: int | None,
             auth: AuthArg, stream: bool, **build: Any) -> httpx.Response:
        # closed when interrupted mid-send: the request is no longer in flight
        return drive(self._flow(method, path, expected, max_retries, auth, stream, build), self._carry_out)

    def _carry_out(self, step: _Step) -> Any:
        """Do one step of the flow; a transport failure is the answer, not an exception."""
        if isinstance(step, _Sleep):
            return self._sleep(step.seconds)
        if isinstance(step, _Drain):
            try:
                step.response.read()
            except httpx.RequestError:
                pass  # the error is then built from the status alone
            finally:
                step.response.close()
            return None
        try:
            return self._client.send(step.request, auth=step.auth, stream=step.stream)
        except (httpx.RequestError, HubConnectionError) as exc:
            return exc

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
        chunk_size = _check_chunk_size(chunk_size)
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
    _wrong_client = "client must be an httpx.AsyncClient (use HubSession for an httpx.Client)"
    _default_sleep = staticmethod(anyio.sleep)

    async def _run(self, method: str, path: str, expected: Collection[int], max_retries: int | None,
                   auth: AuthArg, stream: bool, **build: Any) -> httpx.Response:
        # closed when cancelled mid-send: the request is no longer in flight
        return await adrive(self._flow(method, path, expected, max_retries, auth, stream, build),
                            self._carry_out)

    async def _carry_out(self, step: _Step) -> Any:
        """Do one step of the flow; a transport failure is the answer, not an exception."""
        if isinstance(step, _Sleep):
            return await self._sleep(step.seconds)
        if isinstance(step, _Drain):
            try:
                await step.response.aread()
            except httpx.RequestError:
                pass
            finally:
                await step.response.aclose()
            return None
        try:
            return await self._client.send(step.request, auth=step.auth, stream=step.stream)
        except (httpx.RequestError, HubConnectionError) as exc:
            return exc

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
        chunk_size = _check_chunk_size(chunk_size)
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
