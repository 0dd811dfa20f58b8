"""The fake Hub's rate limiter: the ``ratelimit-*`` headers of every answer and, once a limit is
set (``FakeHub(rate_limit=...)``), the Hub's 429.

How the Hub counts (hub-spec README "Rate limits", legacy README "Rate-limit headers", and the
``@routup/rate-limit`` middleware the Hub and authup register):

- one counter per client address and service (authup, core and storage are separate servers):
  one address' anonymous and user requests share it — recordings 025-028 count on from
  ``1184``/``1183`` of 1200 (anonymous) to ``5982`` of 6000 (a user token), 081-083 likewise;
- the limit depends on who asks: 1200 per window without a token and for everything on authup,
  6000 for a user token on core and storage, more for a client token (the middleware: 300,000);
  robot tokens are not limited and get no headers (legacy 041);
- fixed windows of 60 s, the same for every counter: the middleware's memory store clears all
  counters at once every window, counted from the server's start. Here the windows follow on from
  the first request after the limit was set (or after a whole window without requests): a client
  cannot tell the difference before its first answer, and a benchmark gets a window that starts
  with its first request;
- ``ratelimit-limit``, ``ratelimit-remaining`` (never below 0) and ``ratelimit-reset`` (whole
  seconds until the window ends, rounded up);
- beyond the limit the request is counted and answered **429** before any route runs, with the
  middleware's default answer: ``Too many requests, please try again later.`` as
  ``text/html; charset=utf-8`` and ``Retry-After`` = the window length in whole seconds (not the
  time left). No 429 was recorded; this follows the middleware's source.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

__all__ = ["RateLimit", "RateLimiter", "TOO_MANY_REQUESTS"]

#: the Hub's numbers (recorded: 001, 026, 028; the client limit from the middleware's source)
HUB_ANONYMOUS = 1200
HUB_TOKEN = 6000
HUB_CLIENT = 300_000
HUB_WINDOW = 60.0

#: the body of the middleware's 429 answer
TOO_MANY_REQUESTS = "Too many requests, please try again later."
_HTML = "text/html; charset=utf-8"

_SPEC = re.compile(r"^\s*(\d+)\s*(?:/\s*(\d+(?:\.\d*)?|\.\d+)\s*s?)?\s*$")


@dataclass(frozen=True)
class RateLimit:
    """A limit the fake Hub enforces (``FakeHub(rate_limit=RateLimit(100, window=1.0))``).

    ``limit``: requests per window of one client address with a token (user or client) on core
    and storage; ``window``: seconds; ``anonymous``: requests per window without a (valid) token
    and for everything on authup (default: ``limit``). Robot tokens stay unlimited.
    """

    limit: int
    window: float = HUB_WINDOW
    anonymous: int | None = None

    def __post_init__(self) -> None:
        for name in ("limit", "anonymous"):
            value = getattr(self, name)
            if value is None and name == "anonymous":
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"rate limit {name} must be an int >= 1 (requests per window), not {value!r}")
        if isinstance(self.window, bool) or not isinstance(self.window, (int, float)) \
                or not math.isfinite(self.window) or self.window <= 0:
            raise ValueError(f"rate limit window must be a number of seconds > 0, not {self.window!r}")

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """``"100"`` (per 60 s) or ``"100/1"`` / ``"100/1.5s"`` (requests / window seconds)."""
        match = _SPEC.match(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"a rate limit is LIMIT or LIMIT/SECONDS (e.g. '100/1'), not {text!r}")
        limit, window = match.groups()
        return cls(int(limit), float(window) if window else HUB_WINDOW)

    @classmethod
    def coerce(cls, value: Any) -> RateLimit | None:
        """``None`` (no limit), an int (per 60 s), a ``"LIMIT/SECONDS"`` string or a RateLimit."""
        if value is None or isinstance(value, RateLimit):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return cls(value)
        if isinstance(value, str):
            return cls.parse(value)
        raise ValueError(f"rate_limit must be None, an int, 'LIMIT/SECONDS' or a RateLimit, not {value!r}")

    def allows(self, service: str, kind: str | None) -> int:
        """Requests per window for an actor ``kind`` ("user", "client"; None = anonymous)."""
        if kind is None or service == "auth":
            return self.anonymous if self.anonymous is not None else self.limit
        return self.limit


RateLimitArg = Union[RateLimit, int, str, None]


class RateLimiter:
    """Counters per (service, client address) in fixed windows shared by every counter.

    Without a :class:`RateLimit` it counts with the Hub's numbers and never refuses (the headers
    only). Not thread-safe on its own: the fake Hub calls it under its lock.
    """

    def __init__(self, config: RateLimit | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        self._ends: float | None = None  # end of the current window (None: no window yet)
        self._hits: dict[tuple[str, str], int] = {}

    @property
    def window(self) -> float:
        return self.config.window if self.config is not None else HUB_WINDOW

    def limit_for(self, service: str, kind: str | None) -> int:
        """Requests per window for a service and an actor kind (None = anonymous)."""
        if self.config is not None:
            return self.config.allows(service, kind)
        if kind is None or service == "auth":
            return HUB_ANONYMOUS
        return HUB_CLIENT if kind == "client" else HUB_TOKEN

    def hit(self, service: str, address: str, kind: str | None) -> tuple[list[tuple[str, str]], bool]:
        """Count one request; returns its ``ratelimit-*`` headers and whether it is refused (then
        the headers include ``Retry-After``)."""
        now = self._clock()
        window = self.window
        if self._ends is None or now >= self._ends:  # every counter resets at once
            if self._ends is not None and now < self._ends + window:
                self._ends += window  # the next window follows on
            else:
                self._ends = now + window  # the first request, or one after a quiet window
            self._hits.clear()
        key = (service, address)
        hits = self._hits.get(key, 0) + 1
        self._hits[key] = hits
        limit = self.limit_for(service, kind)
        # whole seconds from milliseconds, as express-rate-limit counts: ``(now + 60) - now`` in
        # floating point can exceed 60 by a hair and must not round up to 61
        reset = max(0, math.ceil(round((self._ends - now) * 1000) / 1000))
        headers = [("ratelimit-limit", str(limit)), ("ratelimit-remaining", str(max(0, limit - hits))),
                   ("ratelimit-reset", str(reset))]
        refused = self.config is not None and hits > limit
        if refused:
            headers.append(("retry-after", str(math.ceil(window))))
        return headers, refused

    @staticmethod
    def refusal_body() -> tuple[bytes, list[tuple[str, str]]]:
        """Body and content type of the 429 answer."""
        return TOO_MANY_REQUESTS.encode("utf-8"), [("content-type", _HTML)]
