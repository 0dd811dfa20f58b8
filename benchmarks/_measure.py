"""Measuring one run: wall time, client CPU time, HTTP requests on the wire, peak Python memory.

Requests are counted by a transport wrapper (:class:`CountingTransport`) placed under every
httpx client of a run — the API client's, the token client's and the floor's alike — so each
request that reaches the socket is seen once, retries included, at the same small cost for the
client under test and for the floor.
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from . import _kinds

__all__ = ["RequestLog", "CountingTransport", "AsyncCountingTransport", "Sample", "measure",
           "peak_memory", "retained_memory", "spread", "summarize"]


class RequestLog:
    """The requests of one run, counted by kind; the URL of the first of each kind is kept
    (keeping every URL would show up in the memory figures)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.firsts: dict[str, httpx.URL] = {}
        #: HTTP status codes of the answers (429s show a client running into a rate limit)
        self.statuses: Counter[int] = Counter()

    def add(self, request: httpx.Request) -> None:
        kind = _kinds.kind(request.method, request.url.path, request.url.query)
        self.counts[kind] += 1
        if kind not in self.firsts:
            self.firsts[kind] = request.url

    def clear(self) -> None:
        self.counts.clear()
        self.firsts.clear()
        self.statuses.clear()

    def __len__(self) -> int:
        return sum(self.counts.values())

    def kinds(self) -> dict[str, int]:
        """Counts per kind (see :func:`._kinds.kind`)."""
        return dict(sorted(self.counts.items()))

    def first(self, kind: str) -> httpx.URL | None:
        """The URL of the first request of this kind, or None."""
        return self.firsts.get(kind)


class CountingTransport(httpx.BaseTransport):
    """Wraps a sync transport and logs each request it sends."""

    def __init__(self, inner: httpx.BaseTransport, log: RequestLog) -> None:
        self._inner = inner
        self._log = log

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._log.add(request)
        response = self._inner.handle_request(request)
        self._log.statuses[response.status_code] += 1
        return response

    def close(self) -> None:
        self._inner.close()


class AsyncCountingTransport(httpx.AsyncBaseTransport):
    """Wraps an async transport and logs each request it sends."""

    def __init__(self, inner: httpx.AsyncBaseTransport, log: RequestLog) -> None:
        self._inner = inner
        self._log = log

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._log.add(request)
        response = await self._inner.handle_async_request(request)
        self._log.statuses[response.status_code] += 1
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass
class Sample:
    """One timed run."""

    wall: float
    cpu: float
    records: int
    requests: dict[str, int] = field(default_factory=dict)
    #: CPU time of the fake Hub process during the run (None when unknown)
    server_cpu: float | None = None


def measure(run: Callable[[RequestLog], int], server_cpu: Callable[[], float | None] | None = None) -> Sample:
    """Time ``run(log)`` (which returns the number of records it handled). Garbage from earlier
    runs is collected first, outside the measurement. ``server_cpu()``, if given, reads the
    server's CPU time (before and after). A run timed elsewhere (the peer's, in its own
    process) has a ``sample(server_cpu)`` method that gives its sample."""
    sampler = getattr(run, "sample", None)
    if callable(sampler):
        sample: Sample = sampler(server_cpu)
        return sample
    log = RequestLog()
    gc.collect()
    server0 = server_cpu() if server_cpu else None
    cpu0, wall0 = time.process_time(), time.perf_counter()
    records = run(log)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    server1 = server_cpu() if server_cpu else None
    server = server1 - server0 if server0 is not None and server1 is not None else None
    return Sample(wall=wall, cpu=cpu, records=records, requests=log.kinds(), server_cpu=server)


def peak_memory(run: Callable[[RequestLog], Any]) -> int:
    """Peak Python heap growth in bytes (``tracemalloc``) while ``run(log)`` executes, above what
    was allocated before it. Not timed: tracing slows Python code down several-fold."""
    gc.collect()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        run(RequestLog())
        return max(0, tracemalloc.get_traced_memory()[1] - base)
    finally:
        if not was_tracing:
            tracemalloc.stop()


def retained_memory(build: Callable[[], Any]) -> int:
    """Bytes still allocated (``tracemalloc``) while the result of ``build()`` is held."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        kept = build()
        gc.collect()
        size = tracemalloc.get_traced_memory()[0] - base
        del kept
        return max(0, size)
    finally:
        tracemalloc.stop()


def spread(values: list[float]) -> dict[str, float]:
    """Median, min and max of some numbers."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarize(samples: list[Sample]) -> dict[str, Any]:
    """Median and min–max of wall and CPU time over the samples, and their request counts
    (``requests`` is the count of the runs when all agree, else every run's)."""
    if not samples:
        raise ValueError("no samples to summarize")
    requests = [s.requests for s in samples]
    same = all(r == requests[0] for r in requests)
    server = [s.server_cpu for s in samples if s.server_cpu is not None]
    return {
        "runs": len(samples),
        "records": samples[0].records,
        "wall": spread([s.wall for s in samples]),
        "cpu": spread([s.cpu for s in samples]),
        "server_cpu": spread(server) if len(server) == len(samples) else None,
        "requests": requests[0] if same else requests,
        "requests_consistent": same,
    }
