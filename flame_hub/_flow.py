"""The sans-IO flow of one HTTP call: retries, pacing, error mapping; and the functions that
carry its steps out (sync and async). Every request of the package goes through it — the
sessions' (:mod:`flame_hub._http`) and the auth flows' token requests (:mod:`flame_hub.auth`).

Retries (README "Retries and timeouts"; docs/how-to): idempotent methods only (GET, HEAD,
OPTIONS, DELETE) on connection errors, timeouts, 502/503/504 and 429, with exponential backoff
and jitter; ``Retry-After`` (seconds or HTTP date) is honoured up to a cap, a longer wait is not
retried. POST (creates, updates, commands, token grants) is never retried: the Hub has no
idempotency keys and a failed create may have half happened (tests/hub-recordings README,
"Rate limits").
"""

from __future__ import annotations

import functools
import logging
import os
import random
import ssl
import time
import warnings
from collections.abc import Awaitable, Callable, Collection, Generator
from dataclasses import dataclass
from typing import Any, Union
from urllib.parse import urlencode

import httpx

from ._pacing import RatePacer
from ._responses import connection_error_from, error_from_response, json_or_none, retry_after_seconds
from .errors import HubConnectionError, redact_url

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


USER_AGENT = _user_agent()


@functools.lru_cache(maxsize=4)
def _ssl_context(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    return httpx.create_ssl_context()  # reads the same two variables


def default_ssl_context() -> ssl.SSLContext:
    """The SSL context of every HTTP client this package creates itself: httpx's default
    (certifi's CAs, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``), built once per process (and per value
    of those variables) instead of once per client — building one costs ~20 ms of CPU, and a
    logged-in client has two (API and token requests). A client the user passes keeps its own."""
    return _ssl_context(os.environ.get("SSL_CERT_FILE") or None, os.environ.get("SSL_CERT_DIR") or None)

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


def retryable_exception(exc: BaseException) -> bool:
    """Transport failures worth another try (not: unsupported scheme, bad request line, ...)."""
    if isinstance(exc, HubConnectionError):  # raised inside an auth flow's token request
        exc = exc.__cause__ if exc.__cause__ is not None else exc
        if isinstance(exc, HubConnectionError):
            return True
    return isinstance(exc, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError))


@dataclass(slots=True)  # not frozen: one is made per request, and frozen costs ~3x to build
class SendStep:
    """Step of :meth:`CallFlow.flow`: send ``request``; the shell answers with the response or the
    transport exception (``httpx.RequestError``, or :class:`HubConnectionError` from an auth flow)."""

    request: httpx.Request
    auth: Any
    stream: bool


@dataclass(slots=True)  # not frozen: one is made per request, and frozen costs ~3x to build
class DrainStep:
    """Step: read the rest of a streamed answer that is not accepted (the error is built from its
    body), then close it."""

    response: httpx.Response


@dataclass(slots=True)  # not frozen: one is made per request, and frozen costs ~3x to build
class SleepStep:
    """Step: wait this long before the next attempt."""

    seconds: float


Step = Union[SendStep, DrainStep, SleepStep]


class CallFlow:
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
        self, method: str, expected: Collection[int], max_retries: int, send: Callable[[], SendStep],
        pacer: RatePacer | None = None,
    ) -> Generator[Step, Any, httpx.Response]:
        """The retry state machine of one call.

        Yields the I/O steps a shell carries out: a :class:`SendStep` (``send()`` builds a fresh one
        per attempt), a :class:`DrainStep` or a :class:`SleepStep` (their answers are ignored). Returns
        the accepted response or raises the mapped error. With a ``pacer``, every attempt first
        waits (``SleepStep``) until the pacer lets it go, and the pacer learns from every answer;
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
                    yield SleepStep(wait)
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
                    yield DrainStep(response)
                if response.status_code in expected:
                    return response
                if method == "DELETE" and attempt > 0 and response.status_code == 404:
                    # an earlier attempt may have deleted it before the answer got lost: done
                    return response
                retry = response.status_code in RETRY_STATUSES
            else:
                retry = retryable_exception(outcome)
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
            yield SleepStep(delay)


def as_timeout(timeout: httpx.Timeout | float | None) -> httpx.Timeout:
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
        return httpx.Timeout(float(timeout))
    raise ValueError(f"timeout must be an httpx.Timeout or a number of seconds > 0, not {timeout!r}")


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


def build_request(client: httpx.Client | httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Request:
    """The request for ``path`` (relative to the client's base URL, or absolute).

    The URL is joined here as one string, query included: handed a relative path, httpx parses
    the URL once more to merge it into its base URL, and handed ``params=`` it builds a
    ``QueryParams`` and parses the whole URL again. Query pairs of plain strings (all the clients
    send) are encoded here exactly as httpx encodes them (``urllib.parse.urlencode``, then the
    same URL parsing), so the request is the same, for one URL parse where httpx needs two (three
    for a relative path). A client with default ``params`` of its own, and anything else, is left
    to httpx."""
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    url = path if "://" in path else f"{client.base_url}{path}"
    params = kwargs.get("params")
    if params is not None and "?" not in url and not client.params and _plain_pairs(params):
        del kwargs["params"]
        if params:
            url = f"{url}?{urlencode(params)}"
    return client.build_request(method, url, **kwargs)


def _plain_pairs(params: Any) -> bool:
    """Whether ``params`` is a list or tuple of ``(str, str)`` pairs."""
    return isinstance(params, (list, tuple)) and all(
        type(pair) is tuple and len(pair) == 2 and type(pair[0]) is str and type(pair[1]) is str
        for pair in params)




def carry_out(client: httpx.Client, sleep: Callable[[float], Any], step: Step) -> Any:
    """Do one step of a flow with a sync client; a transport failure is the answer, not an
    exception."""
    if isinstance(step, SleepStep):
        return sleep(step.seconds)
    if isinstance(step, DrainStep):
        try:
            step.response.read()
        except httpx.RequestError:
            pass  # the error is then built from the status alone
        finally:
            step.response.close()
        return None
    try:
        return client.send(step.request, auth=step.auth, stream=step.stream)
    except (httpx.RequestError, HubConnectionError) as exc:
        return exc


async def acarry_out(client: httpx.AsyncClient, sleep: Callable[[float], Awaitable[Any]], step: Step) -> Any:
    """:func:`carry_out` with an async client (``sleep`` is awaited)."""
    if isinstance(step, SleepStep):
        return await sleep(step.seconds)
    if isinstance(step, DrainStep):
        try:
            await step.response.aread()
        except httpx.RequestError:
            pass
        finally:
            await step.response.aclose()
        return None
    try:
        return await client.send(step.request, auth=step.auth, stream=step.stream)
    except (httpx.RequestError, HubConnectionError) as exc:
        return exc
