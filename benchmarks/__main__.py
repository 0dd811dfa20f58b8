"""``python -m benchmarks``: what the client costs on top of raw httpx (issue 6).

For each latency and each N it starts the fake Hub in a separate process
(``python -m flame_hub.testing serve --latency ...``), seeds N nodes, and measures, alternating the
variants for ``--repetitions`` rounds after one warm-up run each:

- listing every node: the floor (raw httpx + json paging with the same parameters), our sync
  client (``for node in core.nodes``), our async client with each ``--concurrency``;
- ``--gets`` single-record reads: ``core.get_node(id)`` vs raw ``GET /nodes/<id>`` + json;
- the same listing, gets and setup run by flame-hub-client 1.1.0 (the peer column, issue 13):
  in its own venv (``benchmarks/.peer-venv``, made on first use) in a subprocess, timed there
  (``--no-peer`` skips it; without network the report says why it is missing);
- an async listing of 10,000 nodes under a rate limit (150 requests per 3 s, 20 ms), paced and
  with ``pace=False`` (``--only ratelimit`` runs it alone, ``--rl-*`` configure it);

recording wall time, client CPU time, the requests on the wire and (in one extra, untimed run)
the peak Python memory, then writes ``benchmarks/results/<date>.json``, ``<date>.md`` and
``<date>.png``. ``--quick`` is a smoke run of a few seconds that writes nothing unless ``--out``
is given. ``--profile`` prints a cProfile of the sync listing, the single gets and their floors
instead.

Examples::

    python -m benchmarks                       # N 1,000 and 10,000 at 0 and 20 ms, 5 rounds
    python -m benchmarks --quick
    python -m benchmarks -n 500 --latency 0,50 --repetitions 7 --concurrency 1,4
    python -m benchmarks --profile -n 10000
    python -m benchmarks --only ratelimit --rl-limit 100 --rl-window 2
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pydantic

import flame_hub

from . import _peer, _ratelimit, _report
from ._canned import Recording, canned_target, recording_target
from ._ratelimit import RateLimitSettings, bench_ratelimit
from ._measure import RequestLog, Sample, measure, peak_memory, retained_memory, summarize
from ._server import HubProcess, node_ids
from ._workloads import (TIMEOUT, Run, Target, async_client_list, async_floor_list, client_first, client_get,
                         client_list, client_values, concurrency_api, floor_first, floor_get, floor_list,
                         floor_values, list_params, token, values_params)

RESULTS = Path(__file__).resolve().parent / "results"


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v.replace("_", "")) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, not {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, not {text!r}")
    return values


def _ms_list(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated milliseconds, not {text!r}") from None
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected milliseconds >= 0, not {text!r}")
    return values


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", "--records", type=_int_list, default=None,
                   help="comma-separated numbers of nodes to list (default 1000,10000)")
    p.add_argument("--latency", type=_ms_list, default=None,
                   help="comma-separated per-request latencies of the fake Hub in ms (default 0,20)")
    p.add_argument("-r", "--repetitions", type=_positive, default=None,
                   help="timed rounds per variant, after one warm-up (default 5)")
    p.add_argument("-c", "--concurrency", type=_int_list, default=None,
                   help="async page concurrencies (default 1,4,8)")
    p.add_argument("--gets", type=int, default=None,
                   help="single-record reads per run (default 200; 0 skips them)")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 300 nodes, 0 ms, 2 rounds, 20 gets; writes files only with --out")
    p.add_argument("--out", type=Path, default=None, help=f"results folder (default {RESULTS})")
    p.add_argument("--no-plot", action="store_true", help="do not draw the PNG")
    p.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    p.add_argument("--report", type=Path, default=None, metavar="JSON",
                   help="only render the Markdown and the plot again from a results JSON")
    p.add_argument("--only", choices=("ratelimit",), default=None,
                   help="run one scenario alone: 'ratelimit' (merged into an existing <date>.json of --out)")
    p.add_argument("--no-ratelimit", action="store_true", help="skip the rate-limit scenario")
    p.add_argument("--rl-records", type=_positive, default=None,
                   help="rate-limit scenario: nodes to list (default 10000; --quick 1000)")
    p.add_argument("--rl-limit", type=_positive, default=None,
                   help="rate-limit scenario: requests per window (default 150)")
    p.add_argument("--rl-window", type=float, default=None,
                   help="rate-limit scenario: window in seconds (default 3)")
    p.add_argument("--rl-latency", type=float, default=None,
                   help="rate-limit scenario: fake-Hub latency in ms (default 20)")
    p.add_argument("--rl-concurrency", type=_int_list, default=None,
                   help="rate-limit scenario: async page concurrencies (default 4,8)")
    p.add_argument("--no-peer", action="store_true", help="skip the flame-hub-client 1.1.0 column")
    p.add_argument("--peer-venv", type=Path, default=_peer.VENV,
                   help=f"the venv holding {_peer.REQUIREMENT} (made when missing; default {_peer.VENV})")
    p.add_argument("--profile", action="store_true",
                   help="print a cProfile of the sync listing and the single gets beside their floors "
                        "(first N, first latency; in memory)")
    return p


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    quick = args.quick
    return {
        "records": args.records or ([300] if quick else [1000, 10000]),
        "latency_ms": args.latency or ([0.0] if quick else [0.0, 20.0]),
        "repetitions": args.repetitions or (2 if quick else 5),
        "concurrency": args.concurrency or ([1, 4] if quick else [1, 4, 8]),
        "gets": (20 if quick else 200) if args.gets is None else max(0, args.gets),
        "memory": not args.no_memory,
    }


def _rl_settings(args: argparse.Namespace, st: dict[str, Any]) -> RateLimitSettings:
    quick = args.quick
    return RateLimitSettings(
        records=args.rl_records or (1000 if quick else 10_000),
        latency_ms=20.0 if args.rl_latency is None else args.rl_latency,
        limit=args.rl_limit or (10 if quick else 150),
        window=(1.0 if quick else 3.0) if args.rl_window is None else args.rl_window,
        concurrency=tuple(args.rl_concurrency or ([4] if quick else [4, 8])),
        repetitions=1 if quick else st["repetitions"])


def _write(results: dict[str, Any], stem: Path, plot: bool) -> None:
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    stem.with_suffix(".md").write_text(_report.markdown(results))
    _say(f"results written to {stem}.json and {stem}.md")
    if plot and results.get("configs"):
        _say(_report.plot(results, stem.with_suffix(".png")))


def only_ratelimit(args: argparse.Namespace, st: dict[str, Any]) -> int:
    """``--only ratelimit``: the scenario alone; with ``--out`` (or by default) its results are
    merged into that folder's results of today (or written as a results file of their own)."""
    rl = bench_ratelimit(_rl_settings(args, st))
    print("\n".join(_ratelimit.markdown(rl)))
    print("\n" + json.dumps(_ratelimit.target_row(rl), ensure_ascii=False))
    out = args.out if args.out is not None else (None if args.quick else RESULTS)
    if out is None:
        return 0
    out.mkdir(parents=True, exist_ok=True)
    date = dt.datetime.now().strftime("%Y-%m-%d")
    stem = out / date
    path = stem.with_suffix(".json")
    results = json.loads(path.read_text()) if path.exists() else {
        "date": date, "time": dt.datetime.now().isoformat(timespec="seconds"), "machine": machine(),
        "settings": {**st, "page_size": 50}, "configs": []}
    results["ratelimit"] = rl
    results["ratelimit_machine"] = machine()
    results["targets"] = _report.targets(results)
    _write(results, stem, plot=not args.no_plot)
    return 0


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_group(runs: dict[str, Run], repetitions: int, expect: int,
              server_cpu: Callable[[], float | None] | None = None) -> dict[str, list[Sample]]:
    """One warm-up run each, then ``repetitions`` rounds in which every variant runs once; the
    order rotates each round so no variant always follows the same one."""
    names = list(runs)
    for name in names:
        records = runs[name](RequestLog())
        if records != expect:
            raise RuntimeError(f"{name} handled {records} records instead of {expect}")
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    for rnd in range(repetitions):
        for name in names[rnd % len(names):] + names[:rnd % len(names)]:
            sample = measure(runs[name], server_cpu)
            if sample.records != expect:
                raise RuntimeError(f"{name} handled {sample.records} records instead of {expect}")
            samples[name].append(sample)
    return samples


def page_bytes(target: Target, page_size: int) -> dict[str, int]:
    """What one page of records holds in memory: validated models and parsed JSON."""
    auth = flame_hub.auth.PasswordAuth(target.username, target.password, base_url=target.auth_url)
    with flame_hub.CoreClient(base_url=target.core_url, auth=auth) as core:
        qs = core.nodes.page(limit=page_size)
        qs.fetch_one_page()  # token, connection and lazily built validators, outside the measure
        models = retained_memory(lambda: qs.fetch_one_page().items)
    auth.close()
    with httpx.Client(timeout=TIMEOUT) as http:
        headers = token(http, target)
        content = http.get(target.core_url + "nodes", headers=headers,
                           params={"page[limit]": str(page_size)}).content
        parsed = retained_memory(lambda: json.loads(content)["data"])
    return {"models": models, "json": parsed}


def bench_config(latency_ms: float, n: int, st: dict[str, Any], peer: _peer.PeerWorker | None = None) -> dict[str, Any]:
    """Every measurement of one (latency, N): a fresh fake Hub process seeded with N nodes;
    ``peer`` (when running) adds 1.1.0 to the listing, the gets and the setup."""
    _say(f"== latency {latency_ms:g} ms, N = {n:,}: starting and seeding the fake Hub")
    with HubProcess(latency=latency_ms / 1000, nodes=n) as hub:
        target = hub.target
        _say(f"   seeded in {hub.seed_seconds:.1f} s ({hub.seed_method}); listing")
        params = list_params(target)
        runs: dict[str, Run] = {_report.FLOOR: floor_list(target, params),
                                _report.FLOOR_MODELS: floor_list(target, params, models=True),
                                _report.SYNC: client_list(target)}
        if peer is not None:
            runs[_peer.PEER] = _peer.PeerRun(peer, "list", target, {"page_size": params.page_size})
            runs[_peer.PEER_FLOOR] = _peer.PeerRun(peer, "raw-list", target,
                                                   {"page_size": params.page_size, "params": params.base})
        for c in st["concurrency"]:
            runs[_report.async_floor_name(c)] = async_floor_list(target, params, c)
            runs[_report.async_name(c)] = async_client_list(target, c)
        samples = run_group(runs, st["repetitions"], n, hub.cpu_seconds)
        variants = {name: summarize(s) for name, s in samples.items()}
        if st["memory"]:
            _say("   peak memory")
            for name, run in runs.items():
                if not isinstance(run, _peer.PeerRun):  # its heap is another process's
                    variants[name]["peak_memory"] = peak_memory(run)
        cfg: dict[str, Any] = {"latency_ms": latency_ms, "n": n, "seed_seconds": hub.seed_seconds,
                               "seed_method": hub.seed_method, "variants": variants,
                               "page_bytes": page_bytes(target, params.page_size)}
        ids: list[str] = []
        if st["gets"]:
            _say(f"   {st['gets']} single gets")
            ids = node_ids(target, st["gets"])
            get_params = _get_params(target, ids)
            get_runs: dict[str, Run] = {_report.GET_FLOOR: floor_get(target, ids, get_params),
                                        _report.GET_SYNC: client_get(target, ids)}
            if peer is not None:
                get_runs[_peer.PEER] = _peer.PeerRun(peer, "get", target, {"ids": ids})
                get_runs[_peer.PEER_FLOOR] = _peer.PeerRun(peer, "raw-get", target,
                                                           {"ids": ids, "params": get_params})
            cfg["gets"] = {name: summarize(s) for name, s in
                           run_group(get_runs, st["repetitions"], len(ids), hub.cpu_seconds).items()}
        _say("   values(): rows of three fields")
        value_runs = {_report.VALUES_FLOOR: floor_values(target, values_params(target)),
                      _report.VALUES_SYNC: client_values(target)}
        cfg["values"] = {name: summarize(s) for name, s in
                         run_group(value_runs, st["repetitions"], n, hub.cpu_seconds).items()}
        _say("   in memory (recorded answers, no sockets)")
        cfg["in_memory"] = in_memory(target, params, n, ids, st)
        _say("   setup (default clients, login, first request)")
        setup_runs: dict[str, Run] = {_report.FLOOR: floor_first(target), _report.SYNC: client_first(target)}
        if peer is not None:
            setup_runs[_peer.PEER] = _peer.PeerRun(peer, "first", target)
        cfg["setup"] = {name: summarize(s) for name, s in run_group(setup_runs, st["repetitions"], 1).items()}
    return cfg


def _get_params(target: Target, ids: list[str]) -> list[tuple[str, str]]:
    """The query ``get_node`` sends (from one probe call)."""
    probe = RequestLog()
    client_get(target, ids[:1])(probe)
    url = probe.first("get")
    if url is None:
        raise RuntimeError("get_node sent no GET")
    return list(url.params.multi_items())


def in_memory(target: Target, params: Any, n: int, ids: list[str], st: dict[str, Any]) -> dict[str, Any]:
    """The listing and single-get variants once more, answered from memory: every answer is
    recorded on the way through the real server once, then replayed (``httpx.MockTransport``),
    so only the client-side work above the transport is left."""
    recording = Recording()
    rec = recording_target(target, recording)
    floor_list(rec, params)(RequestLog())
    client_list(rec)(RequestLog())
    if ids:
        floor_get(rec, ids, _get_params(rec, ids))(RequestLog())
    canned = canned_target(target, recording)
    runs: dict[str, Run] = {_report.FLOOR: floor_list(canned, params),
                            _report.FLOOR_MODELS: floor_list(canned, params, models=True),
                            _report.SYNC: client_list(canned),
                            _report.async_floor_name(1): async_floor_list(canned, params, 1),
                            _report.async_name(1): async_client_list(canned, 1)}
    out: dict[str, Any] = {"variants": {name: summarize(s) for name, s in
                                        run_group(runs, st["repetitions"], n).items()}}
    if ids:
        get_runs = {_report.GET_FLOOR: floor_get(canned, ids, _get_params(canned, ids)),
                    _report.GET_SYNC: client_get(canned, ids)}
        out["gets"] = {name: summarize(s) for name, s in run_group(get_runs, st["repetitions"], len(ids)).items()}
    return out


def _commit() -> str:
    """The commit measured (``BENCH_COMMIT`` when running from an exported snapshot)."""
    if os.environ.get("BENCH_COMMIT"):
        return os.environ["BENCH_COMMIT"]
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parent, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "flame_hub"], capture_output=True,
                               text=True, cwd=Path(__file__).resolve().parent, timeout=10).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "platform": platform.platform(terse=True),
            "cpus": os.cpu_count(), "httpx": httpx.__version__, "pydantic": pydantic.VERSION,
            "flame_hub": flame_hub.__version__, "commit": _commit()}


_GROUPS = (("flame_hub/", "flame_hub"), ("pydantic", "pydantic"), ("/httpx/", "httpx"),
           ("/httpcore/", "httpcore + h11"), ("/h11/", "httpcore + h11"), ("json/", "json"),
           ("_socket", "socket syscalls"), ("select", "socket syscalls"), ("benchmarks/", "benchmark"))


def _group(filename: str, name: str) -> str:
    where = f"{filename}:{name}"
    for needle, group in _GROUPS:
        if needle in where:
            return group
    return "other (stdlib, uuid, ...)"


def profile(st: dict[str, Any], top: int = 25) -> str:
    """cProfile of the sync listing (first N, first latency) and of ``--gets`` single gets, each
    beside its floor, answered from memory (recorded answers, no sockets: the profile's clock then
    measures client CPU): CPU per record by package, the top functions, and flame_hub's own
    functions."""
    n, latency = st["records"][0], st["latency_ms"][0]
    out = io.StringIO()
    with HubProcess(latency=latency / 1000, nodes=n) as hub:
        recording = Recording()
        rec = recording_target(hub.target, recording)
        params = list_params(rec)
        floor_list(rec, params)(RequestLog())
        client_list(rec)(RequestLog())
        ids = node_ids(hub.target, st["gets"]) if st["gets"] else []
        get_params = _get_params(rec, ids) if ids else []
        if ids:
            floor_get(rec, ids, get_params)(RequestLog())
        canned = canned_target(hub.target, recording)
    runs: dict[str, tuple[Callable[[RequestLog], int], int]] = {
        "floor listing": (floor_list(canned, params), n), "sync listing": (client_list(canned), n)}
    if ids:
        runs["floor gets"] = (floor_get(canned, ids, get_params), len(ids))
        runs["sync get_node"] = (client_get(canned, ids), len(ids))
    for name, (run, count) in runs.items():
        run(RequestLog())  # warm-up
        plain = min(measure(run).cpu for _ in range(5))
        prof = cProfile.Profile()
        prof.runcall(run, RequestLog())
        stats = pstats.Stats(prof, stream=out)
        groups: dict[str, float] = {}
        for (filename, _line, func), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
            key = _group(filename, func)
            groups[key] = groups.get(key, 0.0) + tottime
        total = sum(groups.values())
        unit = "record" if "listing" in name else "get"
        out.write(f"\n===== {name}: {count:,} {unit}s, in memory: {plain * 1e6 / count:.1f} µs CPU per {unit} "
                  f"without the profiler (best of 5), {total * 1e6 / count:.1f} µs with it; by package:\n")
        for key, value in sorted(groups.items(), key=lambda kv: -kv[1]):
            out.write(f"  {key:28s} {value * 1e6 / count:8.2f} µs/{unit}  {value / total:6.1%}\n")
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(r"flame_hub", top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    st = _settings(args)
    if args.report is not None:
        results = json.loads(args.report.read_text())
        results["targets"] = _report.targets(results)
        args.report.write_text(json.dumps(results, indent=2) + "\n")
        args.report.with_suffix(".md").write_text(_report.markdown(results))
        _say(f"{args.report.with_suffix('.md')} written")
        if not args.no_plot:
            _say(_report.plot(results, args.report.with_suffix(".png")))
        return 0
    if args.profile:
        print(profile(st))
        return 0
    if args.only == "ratelimit":
        return only_ratelimit(args, st)
    api = concurrency_api()
    if api is None:
        _say("note: AsyncQuerySet has no concurrency setting yet: every async variant pages sequentially")
    before = machine()
    peer = (_peer.Peer(_peer.REQUIREMENT, reason="skipped (--no-peer)") if args.no_peer
            else _peer.start(args.peer_venv, say=_say))
    if peer.worker is None:
        _say(f"note: no {_peer.PEER} column: {peer.reason}")
    try:
        configs = [bench_config(lat, n, st, peer.worker) for lat in st["latency_ms"] for n in st["records"]]
    finally:
        peer.close()
    rl = None if args.no_ratelimit else bench_ratelimit(_rl_settings(args, st))
    after = machine()
    if after["commit"] != before["commit"]:
        _say(f"warning: the code changed during the run ({before['commit']} -> {after['commit']}); "
             "run from a snapshot (git archive) for a clean measurement")
    now = dt.datetime.now()
    results: dict[str, Any] = {
        "date": now.strftime("%Y-%m-%d"), "time": now.isoformat(timespec="seconds"),
        "machine": before, "commit_after": after["commit"], "concurrency_api": api,
        "settings": {**st, "page_size": list_params(Target("http://127.0.0.1/")).page_size},
        "configs": configs, "peer": peer.describe(),
    }
    if rl is not None:
        results["ratelimit"] = rl
    results["targets"] = _report.targets(results)
    text = _report.markdown(results)
    print(text)
    out = args.out if args.out is not None else (None if args.quick else RESULTS)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        stem = out / results["date"]
        stem.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
        stem.with_suffix(".md").write_text(text)
        _say(f"results written to {stem}.json and {stem}.md")
        if not args.no_plot:
            _say(_report.plot(results, stem.with_suffix(".png")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
