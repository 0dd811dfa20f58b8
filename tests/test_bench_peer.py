"""The peer column's wiring (issue 13 item 5), without running the benchmark.

- the worker (``benchmarks/_peer_worker.py``) answers the protocol and runs the workloads
  against a served fake Hub. flame-hub-client 1.1.0 itself needs a venv made with the network,
  so the worker runs here with this venv's Python and *our* ``flame_hub`` (which keeps 1.1.0's
  ``find_nodes(page=..., meta=True)``) for the floor in httpx2 and the setup; the listing and the
  gets, whose token client is an ``httpx2.Client``, run with the real 1.1.0 when a benchmark
  has made its venv (``benchmarks/.peer-venv``);
- its samples are taken in the worker and reach the report beside ours;
- without a peer venv (no network, no pip) the column says why instead of failing.
"""

from __future__ import annotations

import math
import os
import stat
import sys
from pathlib import Path

import pytest

from flame_hub.testing import FakeHub

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `benchmarks` is a top-level folder of the repository
    sys.path.insert(0, str(ROOT))

from benchmarks import _peer, _report  # noqa: E402
from benchmarks._measure import RequestLog, Sample, measure, summarize  # noqa: E402
from benchmarks._workloads import Target, list_params  # noqa: E402

pytest.importorskip("httpx2", reason="the peer worker speaks httpx2 (flame-hub-client 1.1.0's HTTP library)")


@pytest.fixture(scope="module")
def served():
    hub = FakeHub().start()
    hub.node_ids = [r["id"] for r in hub.seed("nodes", 73)]
    yield hub
    hub.stop()


@pytest.fixture(scope="module")
def worker():
    # our flame_hub stands in for 1.1.0: the same calls, no network needed
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with _peer.PeerWorker(sys.executable, env=env) as w:
        yield w


def test_worker_says_what_it_runs(worker):
    assert worker.info["versions"]["httpx2"]
    assert worker.info["versions"]["flame-hub-client"]
    assert worker.info["async"] is True  # ours has AsyncCoreClient; 1.1.0 answers False


def test_peer_workloads_run_in_the_worker(served, worker):
    target = Target(served.url)
    params = list_params(target)
    raw = _peer.PeerRun(worker, "raw-list", target, {"page_size": params.page_size, "params": params.base})
    log = RequestLog()
    assert raw(log) == 73
    assert log.kinds() == {"list": math.ceil(73 / 50), "token": 1}  # counted in the worker, by kind
    log = RequestLog()
    ids = served.node_ids[:7]
    assert _peer.PeerRun(worker, "raw-get", target, {"ids": ids, "params": [("include", "registry")]})(log) == 7
    assert log.kinds() == {"get": 7, "token": 1}
    assert _peer.PeerRun(worker, "first", target)(RequestLog()) == 1
    # measure() takes the worker's own timing
    sample = measure(raw, lambda: 1.0)
    assert isinstance(sample, Sample) and sample.records == 73
    assert sample.cpu > 0 and sample.wall > 0 and sample.server_cpu == 0.0
    assert sample.requests == {"list": 2, "token": 1}


def test_the_real_peer_lists_and_gets(served):
    python = _peer.installed_python()
    if python is None:
        pytest.skip(f"no {_peer.REQUIREMENT} venv at {_peer.VENV} (python -m benchmarks makes it, with network)")
    target = Target(served.url)
    with _peer.PeerWorker(python) as peer:
        assert peer.info["versions"]["flame-hub-client"] == "1.1.0" and peer.info["async"] is False
        log = RequestLog()
        assert _peer.PeerRun(peer, "list", target, {"page_size": 50})(log) == 73
        assert log.kinds() == {"list": 2, "token": 1}
        log = RequestLog()
        assert _peer.PeerRun(peer, "get", target, {"ids": served.node_ids[:5]})(log) == 5
        assert log.kinds() == {"get": 5, "token": 1}


def test_worker_errors_are_raised_here(served, worker):
    with pytest.raises(RuntimeError, match="KeyError"):
        worker.call({"op": "run", "workload": "no-such-workload"})
    bad = _peer.PeerRun(worker, "first", Target(served.url, password="wrong"))
    with pytest.raises(RuntimeError, match="the peer failed"):
        bad(RequestLog())
    assert _peer.PeerRun(worker, "first", Target(served.url))(RequestLog()) == 1  # still answering


def test_no_venv_no_column_and_the_report_says_why(tmp_path):
    peer = _peer.start(tmp_path / "venv", python=str(tmp_path / "no-python"))
    assert peer.worker is None and "could not" in peer.reason
    assert peer.describe()["available"] is False
    results = _results({"available": False, "reason": peer.reason, "requirement": _peer.REQUIREMENT})
    text = _report.markdown(results)
    assert f"flame-hub-client 1.1.0: not measured — {peer.reason}." in text
    row = [t for t in _report.targets(results) if t["target"] == "Ours vs flame-hub-client 1.1.0"][0]
    assert row["met"] is None and row["measured"] == peer.reason


def test_pip_failing_is_a_reason_not_a_crash(tmp_path):
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\necho 'ERROR: No matching distribution found' >&2\nexit 1\n")
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    reason = _peer.ensure_venv(venv)
    assert isinstance(reason, str) and reason.startswith("pip install flame-hub-client==1.1.0 failed")
    assert "No matching distribution" in reason


def _variant(cpu: float, wall: float = 1.0, records: int = 1000) -> dict:
    return summarize([Sample(wall=wall, cpu=cpu, records=records, requests={"list": 20, "token": 1})] * 3)


def _results(peer: dict) -> dict:
    cfg = {"latency_ms": 0.0, "n": 1000,
           "variants": {"floor": _variant(1.0), "sync": _variant(1.05, 1.0),
                        _report.PEER: _variant(1.2, 1.1), _report.PEER_FLOOR: _variant(0.9)},
           "gets": {"floor": _variant(1.0), "sync get_node": _variant(1.3, 1.2), _report.PEER: _variant(1.2, 1.1)},
           "setup": {"floor": _variant(1.0), "sync": _variant(1.2), _report.PEER: _variant(1.5)}}
    return {"date": "2000-01-01", "settings": {"page_size": 50, "repetitions": 3, "gets": 200},
            "machine": dict.fromkeys(("flame_hub", "commit", "python", "httpx", "pydantic", "platform", "cpus"), "x"),
            "concurrency_api": "queryset", "configs": [cfg], "peer": peer}


def test_report_puts_the_peer_beside_ours():
    results = _results({"available": True, "requirement": _peer.REQUIREMENT, "python": "3.11",
                        "versions": {"flame-hub-client": "1.1.0", "httpx2": "2.16.2"}, "async": False})
    text = _report.markdown(results)
    assert "## Side by side: ours, raw httpx + json, flame-hub-client 1.1.0" in text
    # listing: ours 1.05× the floor, 1.1.0 1.20×, raw httpx2 0.90×; ours ÷ 1.1.0 = 0.875
    assert "| 0 ms | 1,000 | full listing | 1.05× | 1.20× | 0.90× | **0.88×** | 1.00× | 1.10× | **0.91×** |" in text
    assert "| 0 ms | 1,000 | single gets | 1.30× | 1.20× | – | **1.08×** | 1.20× | 1.10× | **1.09×** |" in text
    judged = {t["target"]: t for t in _report.targets(results)}
    assert judged["Ours vs 1.1.0, full listing"]["met"] is True
    assert judged["Ours vs 1.1.0, single gets"]["met"] is False
    assert "cpu 1.08×, wall 1.09×" in judged["Ours vs 1.1.0, single gets"]["measured"]
    assert judged["Ours vs 1.1.0, setup"]["met"] is True
    assert judged["CPU, sync full listing"]["met"] is True  # 1.05 <= 1.10
    assert judged["CPU, single get"]["met"] is False and "18% over" in judged["CPU, single get"]["measured"]
    assert judged["CPU, setup (client + login + first request)"]["met"] is True  # 1.2 <= 1.3
    # notes written into the JSON after a run (the why, the profile) come after the targets
    results["notes"] = ["## Why the targets are missed", "", "- the profile says so"]
    text = _report.markdown(results)
    assert text.index("## Why the targets are missed") > text.index("| CPU, single get |")
    assert text.endswith("- the profile says so\n")
