"""Results: the targets (issue 13 item 5; requests, memory and rate limit from issue 6) judged
from a run, the Markdown tables, the side-by-side comparison with flame-hub-client 1.1.0, the plot.

The results dict (written as JSON) has ``configs``: one entry per (latency, N) with
``variants`` (name -> summary from :func:`~._measure.summarize` plus ``peak_memory``) and
``gets`` (the single-record reads), ``page_bytes`` (what one page of 50 records holds); and
``notes`` (optional, Markdown lines added by hand after the run, kept by ``--report``: why a
target is missed, the profile's top entries); ``ratelimit`` (optional): the async listing under a
rate limit (:mod:`._ratelimit`); ``peer``
(optional): whether flame-hub-client 1.1.0 ran (:mod:`._peer`), its variants sitting beside ours
in ``variants``, ``gets`` and ``setup``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from . import _ratelimit

__all__ = ["PEER", "PEER_FLOOR", "GOALS", "FLOOR", "FLOOR_MODELS", "SYNC", "GET_FLOOR", "GET_SYNC", "VALUES_FLOOR", "VALUES_SYNC", "async_name", "async_floor_name", "targets", "markdown", "plot"]

FLOOR = "floor"
#: the floor validating each page into our models (pydantic), without any other layer of ours
FLOOR_MODELS = "raw httpx + pydantic models"
SYNC = "sync"
GET_FLOOR = "floor"
GET_SYNC = "sync get_node"
VALUES_FLOOR = "floor (dicts by hand)"
VALUES_SYNC = "sync values()"
#: flame-hub-client 1.1.0 in its own venv, and the floor written with httpx2 there (``_peer``):
#: the variants' names in the results
PEER = "flame-hub-client 1.1.0"
PEER_FLOOR = "raw httpx2 + json"

#: issue 13 item 5: client CPU of ours over the floor's, at most
GOALS = {"listing": 1.10, "listing in memory": 1.5, "get": 1.10, "setup": 1.3, "async c=1": 1.15}


def async_name(concurrency: int) -> str:
    return f"async c={concurrency}"


def async_floor_name(concurrency: int) -> str:
    return f"raw async c={concurrency}"


def _median(variant: dict[str, Any], what: str) -> float:
    return variant[what]["median"]


def _ratio(a: float, b: float) -> float | None:
    return a / b if b > 0 else None


def _fmt_ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _list_requests_ok(variant: dict[str, Any], n: int, page_size: int) -> bool:
    """ceil(N/50) list requests and one token request; the client's one version detection
    (``GET /core/``, once per client) is reported, not counted against the target."""
    req = variant["requests"]
    return (variant["requests_consistent"] and req.get("list", 0) == max(1, math.ceil(n / page_size))
            and req.get("token", 0) == 1 and req.get("detect", 0) <= 1 and set(req) <= {"list", "token", "detect"})


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with what this run measured and whether it is met (``None``: not measured by
    this run)."""
    out: list[dict[str, Any]] = []
    configs = results["configs"]
    page_size = results["settings"]["page_size"]

    def add(name: str, target: str, measured: str, met: bool | None) -> None:
        out.append({"target": name, "goal": target, "measured": measured, "met": met})

    # requests
    lines, ok = [], True
    for cfg in configs:
        for name, variant in cfg["variants"].items():
            good = _list_requests_ok(variant, cfg["n"], page_size)
            ok &= good
            if not good:
                lines.append(f"{name} N={cfg['n']} {cfg['latency_ms']:g} ms: {variant['requests']}")
    detects = any(isinstance(v["requests"], dict) and v["requests"].get("detect")
                  for cfg in configs for v in cfg["variants"].values())
    extra = " (+ 1 version detection `GET /core/` per client)" if detects else ""
    add("Requests (listing)", "ceil(N/50) list requests + 1 token request, sync and async",
        ("all exact" + extra) if ok else "; ".join(lines), ok if configs else None)

    def gets_exact(v: dict[str, Any]) -> bool:
        req = dict(v["requests"]) if isinstance(v["requests"], dict) else {}
        req.pop("detect", None)
        return req == {"get": v["records"], "token": 1}

    gets_ok = all(gets_exact(cfg["gets"][GET_SYNC]) for cfg in configs if cfg.get("gets"))
    add("Requests (single gets)", "one request per get_node (+ 1 token request)",
        "exact" if gets_ok else "extra requests", gets_ok if any(c.get("gets") for c in configs) else None)

    # CPU ratios (issue 13 item 5)
    def cpu_target(title: str, goal: float, pick: Any, floor_name: str = "the floor's") -> None:
        parts, worst = [], 0.0
        for cfg in configs:
            pair = pick(cfg)
            if pair is None:
                continue
            ours, floor = pair
            ratio = _ratio(_median(ours, "cpu"), _median(floor, "cpu"))
            if ratio is None:
                continue
            worst = max(worst, ratio)
            parts.append(f"{ratio:.2f}× (N={cfg['n']}, {cfg['latency_ms']:g} ms)")
        measured = ", ".join(parts) or "not measured"
        if parts and worst > goal:
            measured += f"; worst {worst / goal - 1:.0%} over"
        add(title, f"≤ {goal:.2f}× {floor_name} CPU", measured, (worst <= goal) if parts else None)

    def pick(group: str, ours: str, floor: str) -> Any:
        def get(c: dict[str, Any]) -> Any:
            rows = c.get(group) or {}
            return (rows[ours], rows[floor]) if ours in rows and floor in rows else None
        return get

    def pick_mem(kind: str, ours: str, floor: str) -> Any:
        def get(c: dict[str, Any]) -> Any:
            rows = (c.get("in_memory") or {}).get(kind)
            if not rows or c["latency_ms"] != configs[0]["latency_ms"]:
                return None  # no latency without a server: one row per N
            return rows[ours], rows[floor]
        return get

    cpu_target("CPU, sync full listing", GOALS["listing"], pick("variants", SYNC, FLOOR))
    cpu_target("CPU, sync full listing, in memory", GOALS["listing in memory"], pick_mem("variants", SYNC, FLOOR))
    cpu_target("CPU, single get", GOALS["get"], pick("gets", GET_SYNC, GET_FLOOR))
    cpu_target("CPU, setup (client + login + first request)", GOALS["setup"], pick("setup", SYNC, FLOOR))
    cpu_target("CPU, async c=1 full listing", GOALS["async c=1"],
               pick("variants", async_name(1), async_floor_name(1)), "raw async c=1's")
    out.extend(_peer_targets(results))

    # async speed-up at the highest latency and largest N
    c1, c4 = async_name(1), async_name(4)
    cands = [c for c in configs if c1 in c["variants"] and c4 in c["variants"] and c["latency_ms"] > 0]
    if cands:
        cfg = max(cands, key=lambda c: (c["latency_ms"], c["n"]))
        speedup = _median(cfg["variants"][c1], "wall") / _median(cfg["variants"][c4], "wall")
        note = "" if results.get("concurrency_api") else " (this client has no concurrency setting: both sequential)"
        r1, r4 = cfg["variants"].get(async_floor_name(1)), cfg["variants"].get(async_floor_name(4))
        if r1 and r4:
            note += f"; raw httpx on the same server: {_median(r1, 'wall') / _median(r4, 'wall'):.2f}×"
        add("Async c=4 vs c=1", "≥ 3× faster at 20 ms, N = 10,000",
            f"{speedup:.2f}× (N={cfg['n']}, {cfg['latency_ms']:g} ms){note}", speedup >= 3)
    else:
        add("Async c=4 vs c=1", "≥ 3× faster at 20 ms, N = 10,000", "not measured", None)

    # memory: flat in N and within 3 pages' worth
    mem = [c for c in configs if SYNC in c["variants"] and "peak_memory" in c["variants"][SYNC]]
    if mem:
        big = max(mem, key=lambda c: c["n"])
        small = min(mem, key=lambda c: c["n"])
        page = big["page_bytes"]["models"]
        peak = big["variants"][SYNC]["peak_memory"]
        flat = peak / max(1, small["variants"][SYNC]["peak_memory"])
        add("Peak memory, sync iteration", "≤ 3 pages' worth (one page = 50 validated models), flat in N",
            f"{peak / 1024:.0f} KiB = {peak / page:.1f} pages of {page / 1024:.0f} KiB at N={big['n']}; "
            f"{flat:.2f}× the N={small['n']} peak", peak <= 3 * page and flat <= 1.25)
    if results.get("ratelimit"):
        out.append(_ratelimit.target_row(results["ratelimit"]))
    return out


def _span(stat: dict[str, float], scale: float = 1.0, digits: int = 3) -> str:
    return (f"{stat['median'] * scale:.{digits}f} "
            f"({stat['min'] * scale:.{digits}f}–{stat['max'] * scale:.{digits}f})")


def _server(variant: dict[str, Any]) -> str:
    stat = variant.get("server_cpu")
    return "–" if not stat else f"{stat['median']:.2f}"


def _requests(req: Any) -> str:
    if isinstance(req, list):
        return "varies: " + "; ".join(_requests(r) for r in req)
    return ", ".join(f"{v} {k}" for k, v in req.items())


def markdown(results: dict[str, Any]) -> str:
    """The run as Markdown: settings, the listing table, the single-get table, the targets."""
    s, m = results["settings"], results["machine"]
    api = results.get("concurrency_api")
    out = [
        f"# Benchmark {results['date']}",
        "",
        f"flame-hub-client {m['flame_hub']} (commit {m['commit']}), Python {m['python']}, httpx {m['httpx']}, "
        f"pydantic {m['pydantic']}, {m['platform']}, {m['cpus']} CPUs. Fake Hub in a separate process "
        f"(`python -m flame_hub.testing serve`), loopback. {s['repetitions']} repetitions per variant, "
        "alternating; median (min–max). Ratios are to the floor (raw httpx + json sending the same "
        "requests) of the same configuration. CPU is the benchmark process's `time.process_time()`; "
        "peak memory is `tracemalloc`'s peak over one separate, untimed run (records are not kept). "
        "Server CPU is the fake Hub process's CPU time during the run (median): where it comes close "
        "to the wall time, the single-process fake Hub, not the client, is the bottleneck.",
        "",
        "Async concurrency: " + (f"set with `{api}`." if api else
                                 "this version of the client has no concurrency setting, so every "
                                 "async variant pages sequentially."),
        "",
        "## Listing `core.nodes` (full iteration)",
        "",
        "| latency | N | variant | wall s | wall × floor | CPU s | CPU µs/record | CPU × floor | requests | peak KiB | memory × floor | server CPU s |",
        "|---:|---:|---|---|---:|---|---:|---:|---|---:|---:|---:|",
    ]
    for cfg in results["configs"]:
        floor = cfg["variants"].get(FLOOR)
        for name, v in cfg["variants"].items():
            peak = v.get("peak_memory")
            fpeak = floor.get("peak_memory") if floor else None
            out.append(
                f"| {cfg['latency_ms']:g} ms | {cfg['n']:,} | {name} | {_span(v['wall'])} | "
                f"{_fmt_ratio(_ratio(_median(v, 'wall'), _median(floor, 'wall')) if floor else None)} | "
                f"{_span(v['cpu'])} | {_median(v, 'cpu') / max(1, v['records']) * 1e6:.1f} | "
                f"{_fmt_ratio(_ratio(_median(v, 'cpu'), _median(floor, 'cpu')) if floor else None)} | "
                f"{_requests(v['requests'])} | {'–' if peak is None else f'{peak / 1024:,.0f}'} | "
                f"{_fmt_ratio(_ratio(peak, fpeak) if peak is not None and fpeak else None)} | "
                f"{_server(v)} |")
    out += _group_table(results, "gets", GET_FLOOR, "get",
                        f"Single-record reads ({s['gets']} × `get_node(id)` vs raw GET + json)")
    out += _group_table(results, "values", VALUES_FLOOR, "row",
                        "Rows: `core.nodes.values(\"id\", \"name\", \"created_at\")` vs raw httpx + json "
                        "asking for the same `fields=`")
    mems = [c for c in results["configs"] if c.get("in_memory")]
    if mems:
        out += ["", "## In memory: the same runs answered from recorded responses (no sockets, no server)", "",
                "Only the work above the transport is left (building requests, auth, parsing, validation, "
                "paging), so these CPU ratios are what the client adds, free of kernel and network noise.", "",
                "| N | variant | CPU s | CPU µs/record | CPU × floor |", "|---:|---|---|---:|---:|"]
        for cfg in mems:
            if cfg["latency_ms"] != mems[0]["latency_ms"]:
                continue  # no latency without a server: one table per N is enough
            for table in ("variants", "gets"):
                rows = cfg["in_memory"].get(table)
                if not rows:
                    continue
                floor = rows[FLOOR if table == "variants" else GET_FLOOR]
                for name, v in rows.items():
                    label = name if table == "variants" else f"{name} ({v['records']} gets)"
                    out.append(f"| {cfg['n']:,} | {label} | {_span(v['cpu'], digits=4)} | "
                               f"{_median(v, 'cpu') / max(1, v['records']) * 1e6:.1f} | "
                               f"{_fmt_ratio(_ratio(_median(v, 'cpu'), _median(floor, 'cpu')))} |")
    setups = [c for c in results["configs"] if c.get("setup")]
    if setups:
        out += ["", "## Setup: default clients + login + first request (`core.nodes.first()` vs raw httpx)", "",
                "| latency | N | variant | wall s | CPU s | CPU × floor |", "|---:|---:|---|---|---|---:|"]
        for cfg in setups:
            floor = cfg["setup"][FLOOR]
            for name, v in cfg["setup"].items():
                out.append(f"| {cfg['latency_ms']:g} ms | {cfg['n']:,} | {name} | {_span(v['wall'])} | "
                           f"{_span(v['cpu'])} | {_fmt_ratio(_ratio(_median(v, 'cpu'), _median(floor, 'cpu')))} |")
    pages = [c["page_bytes"] for c in results["configs"] if c.get("page_bytes")]
    if pages:
        p = pages[0]
        out += ["", f"One page of 50 nodes held in memory: {p['models'] / 1024:.0f} KiB as validated models, "
                    f"{p['json'] / 1024:.0f} KiB as parsed JSON (floor)."]
    if results.get("ratelimit"):
        out += _ratelimit.markdown(results["ratelimit"])
    out += side_by_side(results)
    out += ["", "## Targets", "",
            "Issue 13 item 5 (client CPU, and ours against flame-hub-client 1.1.0); requests, memory, "
            "async speed-up and rate limit from issue 6.", "",
            "| target | goal | measured | met |", "|---|---|---|---|"]
    for t in results.get("targets") or targets(results):
        met = {True: "yes", False: "**no**", None: "not measured"}[t["met"]]
        out.append(f"| {t['target']} | {t['goal']} | {t['measured']} | {met} |")
    if results.get("notes"):  # written by hand into the JSON after the run: the why, the profile
        out += ["", *results["notes"]]
    return "\n".join(out) + "\n"


def _group_table(results: dict[str, Any], key: str, floor_name: str, unit: str, title: str) -> list[str]:
    """The table of one extra group of runs (``cfg[key]``: variant -> summary), if measured."""
    if not any(cfg.get(key) for cfg in results["configs"]):
        return []
    out = ["", f"## {title}", "",
           f"| latency | N | variant | wall s | wall × floor | CPU s | CPU µs/{unit} | CPU × floor | requests | server CPU s |",
           "|---:|---:|---|---|---:|---|---:|---:|---|---:|"]
    for cfg in results["configs"]:
        rows = cfg.get(key)
        if not rows:
            continue
        floor = rows[floor_name]
        for name, v in rows.items():
            out.append(
                f"| {cfg['latency_ms']:g} ms | {cfg['n']:,} | {name} | {_span(v['wall'])} | "
                f"{_fmt_ratio(_ratio(_median(v, 'wall'), _median(floor, 'wall')))} | {_span(v['cpu'])} | "
                f"{_median(v, 'cpu') / max(1, v['records']) * 1e6:.0f} | "
                f"{_fmt_ratio(_ratio(_median(v, 'cpu'), _median(floor, 'cpu')))} | {_requests(v['requests'])} | "
                f"{_server(v)} |")
    return out


def plot(results: dict[str, Any], path: Path, latency_ms: float = 20.0) -> str:
    """Wall time vs N for floor / sync / async c=4 at ``latency_ms`` (or the highest latency
    measured) as a PNG. Returns a message saying what was written or why not."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "plot skipped: matplotlib is not installed (pip install 'flame-hub-client[bench]')"
    configs = results["configs"]
    if not configs:
        return "plot skipped: nothing measured"
    latencies = sorted({c["latency_ms"] for c in configs})
    chosen = latency_ms if latency_ms in latencies else latencies[-1]
    rows = sorted((c for c in configs if c["latency_ms"] == chosen), key=lambda c: c["n"])
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
    for name, style in ((FLOOR, "o-"), (SYNC, "s-"), (async_name(4), "^-"), (async_floor_name(4), "v:")):
        pts = [(c["n"], c["variants"][name]["wall"]) for c in rows if name in c["variants"]]
        if not pts:
            continue
        ns = [n for n, _ in pts]
        med = [w["median"] for _, w in pts]
        err = [[w["median"] - w["min"] for _, w in pts], [w["max"] - w["median"] for _, w in pts]]
        ax.errorbar(ns, med, yerr=err, fmt=style, capsize=3, label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("records listed (N)")
    ax.set_ylabel("wall time, s (median, min–max)")
    ax.set_title(f"Listing core.nodes at {chosen:g} ms latency ({results['date']})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return f"plot written to {path}"


#: the workloads 1.1.0 can run: (results group, our variant, the floor, title)
PEER_WORKLOADS = (("variants", SYNC, FLOOR, "full listing"), ("gets", GET_SYNC, GET_FLOOR, "single gets"),
                  ("setup", SYNC, FLOOR, "setup"))


def _peer_missing(results: dict[str, Any]) -> str | None:
    """Why there is no 1.1.0 column (None when it ran)."""
    peer = results.get("peer")
    if peer is None:
        return "not measured by this run"
    return None if peer.get("available") else peer.get("reason") or "not available"


def _peer_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Ours no dearer than 1.1.0, in wall time and client CPU, on each workload it runs."""
    goal = "ours ≤ 1.1.0 in wall time and client CPU (medians)"
    missing = _peer_missing(results)
    if missing is not None:
        return [{"target": "Ours vs flame-hub-client 1.1.0", "goal": goal, "measured": missing, "met": None}]
    out = []
    for group, ours, _floor, title in PEER_WORKLOADS:
        parts, ok, seen = [], True, False
        for cfg in results["configs"]:
            rows = cfg.get(group) or {}
            if ours not in rows or PEER not in rows:
                continue
            seen = True
            bits = []
            for what in ("cpu", "wall"):
                ratio = _ratio(_median(rows[ours], what), _median(rows[PEER], what))
                if ratio is None:
                    continue
                ok &= ratio <= 1.0
                bits.append(f"{what} {ratio:.2f}×")
            parts.append(f"{', '.join(bits)} (N={cfg['n']}, {cfg['latency_ms']:g} ms)")
        out.append({"target": f"Ours vs 1.1.0, {title}", "goal": goal,
                    "measured": "; ".join(parts) if seen else "not measured", "met": ok if seen else None})
    has_async = any(async_name(1) in cfg["variants"] for cfg in results["configs"])
    if has_async:
        out.append({"target": "Ours vs 1.1.0, async c=1 listing", "goal": goal,
                    "measured": "1.1.0 has no async client: nothing to compare"
                    if not results["peer"].get("async") else "not measured", "met": None})
    return out


def side_by_side(results: dict[str, Any]) -> list[str]:
    """The comparison table: ours and 1.1.0 (and raw httpx2) as ratios to raw httpx + json."""
    peer = results.get("peer")
    if peer is None:
        return []
    out = ["", "## Side by side: ours, raw httpx + json, flame-hub-client 1.1.0", ""]
    missing = _peer_missing(results)
    if missing is not None:
        return out + [f"flame-hub-client 1.1.0: not measured — {missing}."]
    versions = ", ".join(f"{k} {v}" for k, v in (peer.get("versions") or {}).items())
    out += [(f"1.1.0 ran in its own venv ({versions}; Python {peer.get('python')}) in a subprocess that "
            "times each run itself (`time.process_time()` of that process, garbage collected first), "
            "alternating round by round with our variants on the same fake Hub. Every ratio is a "
            "median over that run's rounds divided by the floor's (raw httpx + json in the benchmark "
            "process). *raw httpx2* is the same floor written with httpx2 in the peer's venv: how much "
            "of 1.1.0's figure is its HTTP library. 1.1.0 lists by paging `find_nodes(page=..., "
            "sort={\"by\": \"created_at\"}, meta=True)` (what a 1.1.0 script writes for a stable order: "
            "the requests of ours and the floor but for `include=registry,registryProject`, which 1.1.0 "
            "always adds, two null fields per record here); its single gets send the same query as ours. "
            "It has no async client."), "",
            ("| latency | N | workload | CPU ours × floor | CPU 1.1.0 × floor | CPU raw httpx2 × floor | "
             "CPU ours ÷ 1.1.0 | wall ours × floor | wall 1.1.0 × floor | wall ours ÷ 1.1.0 |"),
            "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for cfg in results["configs"]:
        for group, ours, floor, title in PEER_WORKLOADS:
            rows = cfg.get(group) or {}
            if ours not in rows or floor not in rows or PEER not in rows:
                continue
            o, f, p = rows[ours], rows[floor], rows[PEER]
            h = rows.get(PEER_FLOOR)

            def r(a: dict[str, Any] | None, b: dict[str, Any], what: str) -> str:
                return "–" if a is None else _fmt_ratio(_ratio(_median(a, what), _median(b, what)))

            out.append(f"| {cfg['latency_ms']:g} ms | {cfg['n']:,} | {title} | {r(o, f, 'cpu')} | {r(p, f, 'cpu')} | "
                       f"{r(h, f, 'cpu')} | **{r(o, p, 'cpu')}** | {r(o, f, 'wall')} | {r(p, f, 'wall')} | "
                       f"**{r(o, p, 'wall')}** |")
    return out
