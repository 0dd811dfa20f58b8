"""Issue 6 §3: a large async listing under a rate limit.

The fake Hub runs in its own process with ``serve --rate-limit LIMIT/WINDOW`` (fixed windows,
one counter per client address and service, the Hub's 429 beyond the limit; a window starts with
the first request after a quiet window). Our async client lists every node with page concurrency
K, once pacing itself by the ``ratelimit-*`` headers (the default) and once with ``pace=False``.
Every answer's status is counted under the client (:class:`~._measure.AsyncCountingTransport`).

What the limit allows: the same listing on an unlimited fake Hub (same latency and N) gives the
requests core needs (R: one version detection plus the list pages; the token request counts on
auth) and their pace without a limit (R / unlimited wall). The run starts in a fresh window (the
harness waits two quiet windows before each run) with the budget B0 the first core answer
reports; the window ends W after the run's first request and each later one lets LIMIT requests
through. ``allowed_wall`` sends the requests at the unlimited pace, window by window, never
before a window has budget: the least wall time the limit allows (never less than the unlimited
wall). The reported ratio is wall / allowed (the target: within 10 %, i.e. ≤ 1.10).
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from typing import Any

import httpx

from ._measure import AsyncCountingTransport, RequestLog, spread
from ._server import HubProcess
from ._workloads import Target, async_client_list, async_http_transport

__all__ = ["RateLimitSettings", "bench_ratelimit", "allowed_wall"]


@dataclasses.dataclass(frozen=True)
class RateLimitSettings:
    """The scenario: N nodes, latency, the limit per window and the concurrencies to run."""

    records: int = 10_000
    latency_ms: float = 20.0
    limit: int = 150
    window: float = 3.0
    concurrency: tuple[int, ...] = (4, 8)
    repetitions: int = 3

    def __post_init__(self) -> None:
        if self.records < 1 or self.limit < 1 or self.repetitions < 1:
            raise ValueError("records, limit and repetitions must be >= 1")
        if self.window <= 0 or self.latency_ms < 0:
            raise ValueError("window must be > 0 and latency_ms >= 0")
        if not self.concurrency or any(c < 1 for c in self.concurrency):
            raise ValueError(f"concurrency must be positive integers, not {self.concurrency!r}")

    @property
    def spec(self) -> str:
        """The ``serve --rate-limit`` argument."""
        return f"{self.limit}/{self.window:g}"


def allowed_wall(requests: int, budget: int, limit: int, window: float, unlimited_wall: float) -> float:
    """The least wall time a limit allows for ``requests`` counted requests: sent at the pace they
    go without a limit (``requests / unlimited_wall`` per second), the run starting in a fresh
    window with ``budget`` left, ``limit`` more at each window start after ``window`` seconds.
    Never less than ``unlimited_wall``."""
    if requests < 1 or limit < 1 or window <= 0 or unlimited_wall < 0:
        raise ValueError("requests and limit must be >= 1, window > 0, unlimited_wall >= 0")
    per_request = unlimited_wall / requests
    left, spare, t, starts = requests, max(0, budget), 0.0, 0.0
    while True:
        sent = min(left, spare)
        t = max(t, starts) + sent * per_request if sent else t
        left -= sent
        if not left:
            return t
        starts += window  # the next window: wait for it unless the run is already past it
        spare = limit


class _HeaderProbe(httpx.AsyncBaseTransport):
    """Keeps the ``ratelimit-*`` headers of the first core answer of a run."""

    def __init__(self, inner: httpx.AsyncBaseTransport, seen: dict[str, Any]) -> None:
        self._inner = inner
        self._seen = seen

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if "remaining" not in self._seen and "/core/" in request.url.path \
                and "ratelimit-remaining" in response.headers:
            self._seen.update(remaining=int(response.headers["ratelimit-remaining"]),
                              limit=int(response.headers["ratelimit-limit"]),
                              reset=int(response.headers["ratelimit-reset"]))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def _timed(run: Any) -> dict[str, Any]:
    log = RequestLog()
    t0, c0 = time.perf_counter(), time.process_time()
    error = None
    records = 0
    try:
        records = run(log)
    except Exception as exc:  # noqa: BLE001 - a run without pacing may fail: that is a result
        error = f"{type(exc).__name__}: {exc}"[:200]
    return {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "records": records,
            "requests": log.kinds(), "statuses": {str(k): v for k, v in sorted(log.statuses.items())},
            "error": error}


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def bench_ratelimit(st: RateLimitSettings) -> dict[str, Any]:
    """Run the scenario; returns the settings, the unlimited reference and, per concurrency, the
    paced and unpaced runs with their 429 counts, wall times and the wall the limit allows."""
    out: dict[str, Any] = {"settings": dataclasses.asdict(st), "unlimited": {}, "runs": {}}
    _say(f"== rate limit {st.spec} (requests/seconds), N = {st.records:,}, {st.latency_ms:g} ms: unlimited reference")
    with HubProcess(latency=st.latency_ms / 1000, nodes=st.records) as hub:
        for c in st.concurrency:
            run = async_client_list(hub.target, c)
            run(RequestLog())  # warm-up
            samples = [_timed(run) for _ in range(st.repetitions)]
            core = {k: v for k, v in samples[0]["requests"].items() if k in ("detect", "list")}
            out["unlimited"][str(c)] = {"wall": spread([s["wall"] for s in samples]),
                                        "requests": samples[0]["requests"], "core_requests": sum(core.values())}
    quiet = 2 * st.window + 0.2
    _say(f"   limited: {st.repetitions} runs per variant, {quiet:g} s quiet before each")
    with HubProcess(latency=st.latency_ms / 1000, nodes=st.records, rate_limit=st.spec) as hub:
        for c in st.concurrency:
            ref = out["unlimited"][str(c)]
            for pace in (True, False):
                name = f"async c={c}" + ("" if pace else " pace=False")
                runs = []
                for _ in range(st.repetitions):
                    seen: dict[str, Any] = {}
                    target = dataclasses.replace(
                        hub.target, async_transport=lambda seen=seen: _HeaderProbe(async_http_transport(), seen))
                    time.sleep(quiet)
                    sample = _timed(async_client_list(target, c, pace=pace))
                    budget = seen["remaining"] + 1 if "remaining" in seen else st.limit
                    sample["budget_at_start"] = budget
                    sample["allowed"] = allowed_wall(ref["core_requests"], budget, st.limit, st.window,
                                                     ref["wall"]["median"])
                    sample["ratio"] = sample["wall"] / sample["allowed"]
                    runs.append(sample)
                out["runs"][name] = {
                    "concurrency": c, "pace": pace, "samples": runs,
                    "wall": spread([s["wall"] for s in runs]),
                    "allowed": statistics.median(s["allowed"] for s in runs),
                    "ratio": spread([s["ratio"] for s in runs]),
                    "status_429": [s["statuses"].get("429", 0) for s in runs],
                    "errors": [s["error"] for s in runs if s["error"]],
                }
                r = out["runs"][name]
                _say(f"   {name}: wall {r['wall']['median']:.2f} s, allowed {r['allowed']:.2f} s, "
                     f"ratio {r['ratio']['median']:.2f}, 429s {r['status_429']}, errors {len(r['errors'])}")
    return out


def target_row(rl: dict[str, Any]) -> dict[str, Any]:
    """The issue-6 target for this scenario: paced runs get zero 429s and finish within 10 % of
    the wall the limit allows."""
    paced = [r for r in rl["runs"].values() if r["pace"]]
    s = rl["settings"]
    parts, ok = [], bool(paced)
    for r in paced:
        n429 = sum(r["status_429"])
        worst = r["ratio"]["max"]
        ok &= n429 == 0 and not r["errors"] and r["ratio"]["median"] <= 1.10
        parts.append(f"c={r['concurrency']}: {n429} × 429, {r['wall']['median']:.2f} s = "
                     f"{r['ratio']['median']:.2f}× the {r['allowed']:.2f} s allowed (worst {worst:.2f}×)")
    return {"target": "Async listing under a rate limit",
            "goal": f"N = {s['records']:,}, {s['limit']} per {s['window']:g} s, {s['latency_ms']:g} ms: "
                    "zero 429s, wall ≤ 1.10× what the limit allows",
            "measured": "; ".join(parts) or "not measured", "met": ok if paced else None}


def markdown(rl: dict[str, Any]) -> list[str]:
    """The scenario's section of the Markdown report."""
    s = rl["settings"]
    out = ["", f"## Async listing under a rate limit ({s['limit']} requests per {s['window']:g} s window, "
               f"N = {s['records']:,}, {s['latency_ms']:g} ms)", "",
           f"Fake Hub with `serve --rate-limit {s['limit']}/{s['window']:g}`; each run starts in a fresh window "
           "(two quiet windows before it). *allowed*: the wall time the limit allows for the core requests "
           "of the listing (version detection + list pages), from the budget the first answer reports and "
           "the same listing's time on an unlimited fake Hub (see `benchmarks/_ratelimit.py`). 429s are "
           f"counted under the client. {s['repetitions']} runs each; median (min–max).", "",
           "| variant | unlimited wall s | wall s | allowed s | wall × allowed | 429 answers per run | requests (first run) | failed runs |",
           "|---|---|---|---:|---|---|---|---:|"]
    for name, r in rl["runs"].items():
        ref = rl["unlimited"][str(r["concurrency"])]["wall"]
        req = r["samples"][0]["requests"]
        out.append(f"| {name} | {ref['median']:.2f} ({ref['min']:.2f}–{ref['max']:.2f}) | "
                   f"{r['wall']['median']:.2f} ({r['wall']['min']:.2f}–{r['wall']['max']:.2f}) | "
                   f"{r['allowed']:.2f} | {r['ratio']['median']:.2f}× ({r['ratio']['min']:.2f}–{r['ratio']['max']:.2f}) | "
                   f"{', '.join(map(str, r['status_429']))} | "
                   f"{', '.join(f'{k} {v}' for k, v in req.items())} | {len(r['errors'])} |")
    errors = [e for r in rl["runs"].values() for e in r["errors"]]
    if errors:
        out += ["", "Failures: " + "; ".join(sorted(set(errors)))]
    return out
