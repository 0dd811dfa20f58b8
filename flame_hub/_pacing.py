"""Rate-limit pacing: the Hub answers every request with ``ratelimit-limit``,
``ratelimit-remaining`` and ``ratelimit-reset`` and refuses with 429 beyond the limit
(tests/hub-recordings README, "Rate limits"). Each session keeps one :class:`RatePacer`, shared
by every thread and task that uses the session: while the budget is comfortable a request costs
it one subtraction and one comparison; when the budget of the current window is used up (down to
the requests in flight plus a small reserve), requests wait until the window resets instead of
running into 429s. ``pace=False`` turns it off.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
import time
from collections import deque

import httpx

log = logging.getLogger("flame_hub.http")


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


