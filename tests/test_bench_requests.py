"""Issue 6 request-count targets, as a unit test (not timed): a regression in the number of
requests fails CI, whatever the benchmark's timings say.

- listing N records sends exactly ceil(N/50) list requests plus one token request, sync and
  async (at every page concurrency);
- 200 ``get_node`` calls send 200 requests (plus one token request);
- the benchmark harness (``benchmarks/``) counts the same requests the fake Hub receives, and its
  floor sends exactly what our client sends.

All on an in-process fake Hub (``hub.transport()``), no socket.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import httpx
import pytest

import flame_hub
from flame_hub.testing import FakeHub

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `benchmarks` is a top-level folder of the repository
    sys.path.insert(0, str(ROOT))

from benchmarks import _report  # noqa: E402
from benchmarks._measure import RequestLog, Sample, summarize  # noqa: E402
from benchmarks._workloads import (Target, async_client_list, async_floor_list, client_get,  # noqa: E402
                                   client_list, client_values, concurrency_api, floor_get, floor_list,
                                   floor_values, list_params, values_params)

PAGE = 50
SIZES = [0, 1, 50, 51, 120]


def expected_list_requests(n: int) -> int:
    """ceil(N/50); an empty listing still needs one request to learn that it is empty."""
    return max(1, math.ceil(n / PAGE))


@pytest.fixture
def hub() -> FakeHub:
    return FakeHub()


def seeded(hub: FakeHub, n: int) -> FakeHub:
    hub.seed("nodes", n)
    hub.clear_requests()
    return hub


def list_requests(hub: FakeHub) -> list:
    return [r for r in hub.requests if r.method == "GET" and r.path == "/core/nodes"]


def token_requests(hub: FakeHub) -> list:
    return [r for r in hub.requests if r.method == "POST" and r.path == "/auth/token"]


def assert_listing_requests(hub: FakeHub, n: int) -> None:
    lists = list_requests(hub)
    assert len(lists) == expected_list_requests(n)
    assert len(token_requests(hub)) == 1
    assert len(hub.requests) == len(lists) + 1  # nothing else: no count or probe request
    # pages of 50, walked in order
    assert [r.query["page[offset]"] for r in lists] == [str(i * PAGE) for i in range(len(lists))]
    assert {r.query["page[limit]"] for r in lists} == {str(PAGE)}


def sync_core(hub: FakeHub) -> tuple[flame_hub.CoreClient, httpx.Client]:
    transport = hub.transport()
    token_http = httpx.Client(transport=transport)
    auth = flame_hub.auth.PasswordAuth("admin", "start123", base_url=hub.auth_url, client=token_http)
    # told the Hub version: no detection request (``GET /core/``) among the counted ones
    return flame_hub.CoreClient(base_url=hub.core_url, auth=auth, transport=transport,
                                hub_version=hub.version), token_http


@pytest.mark.parametrize("n", SIZES)
def test_sync_listing_sends_ceil_n_over_50_list_requests_and_one_token_request(hub, n):
    seeded(hub, n)
    core, token_http = sync_core(hub)
    with core, token_http:
        ids = [node.id for node in core.nodes]
    assert len(ids) == len(set(ids)) == n
    assert_listing_requests(hub, n)


CONCURRENCIES = [None, 1, 4, 8]


@pytest.mark.anyio
@pytest.mark.parametrize("concurrency", CONCURRENCIES, ids=lambda c: f"c={c or 'default'}")
@pytest.mark.parametrize("n", SIZES)
async def test_async_listing_sends_ceil_n_over_50_list_requests_and_one_token_request(hub, n, concurrency):
    seeded(hub, n)
    transport = hub.transport()
    async with httpx.AsyncClient(transport=transport) as token_http:
        auth = flame_hub.auth.PasswordAuth("admin", "start123", base_url=hub.auth_url, async_client=token_http)
        async with flame_hub.AsyncCoreClient(base_url=hub.core_url, auth=auth, transport=transport,
                                             hub_version=hub.version) as core:
            qs = core.nodes if concurrency is None else core.nodes.concurrency(concurrency)
            ids = [node.id async for node in qs]
    assert len(ids) == len(set(ids)) == n
    assert_listing_requests(hub, n)


def test_200_get_node_calls_send_200_requests(hub):
    ids = [record["id"] for record in hub.seed("nodes", 200)]
    hub.clear_requests()
    core, token_http = sync_core(hub)
    with core, token_http:
        found = [core.get_node(ident) for ident in ids]
    assert [str(node.id) for node in found] == ids
    gets = [r for r in hub.requests if r.method == "GET" and r.path.startswith("/core/nodes/")]
    assert len(gets) == 200
    assert len(token_requests(hub)) == 1
    assert len(hub.requests) == 201


# ---------------------------------------------------------------- the benchmark harness itself
@pytest.fixture
def target(hub: FakeHub) -> Target:
    return Target(hub.url, transport=hub.transport, async_transport=hub.transport)


def test_harness_counts_what_the_hub_receives_and_the_floor_sends_what_the_client_sends(hub, target):
    n = 120
    seeded(hub, n)
    params = list_params(target)
    runs = {"floor": floor_list(target, params), "raw async c=4": async_floor_list(target, params, 4),
            "sync": client_list(target), "async c=1": async_client_list(target, 1),
            "async c=4": async_client_list(target, 4)}
    sent = {}
    for name, run in runs.items():
        hub.clear_requests()
        log = RequestLog()
        assert run(log) == n, name
        # our clients ask the Hub for its version once (``GET /core/``) before the first list
        detection = {} if name in ("floor", "raw async c=4") else {"detect": 1}
        assert log.kinds() == {"list": expected_list_requests(n), "token": 1, **detection}, name
        assert len(hub.requests) == len(log), name
        sent[name] = [r.params for r in list_requests(hub)]
    # same parameters, same order, same pages
    assert sent["floor"] == sent["sync"] == sent["async c=1"]
    assert sorted(map(tuple, sent["async c=4"])) == sorted(map(tuple, sent["sync"]))
    assert sorted(map(tuple, sent["raw async c=4"])) == sorted(map(tuple, sent["sync"]))


def test_values_workload_floor_sends_what_values_sends(hub, target):
    n = 120
    seeded(hub, n)
    params = values_params(target)
    assert ("fields", "id,name,createdAt") in params.base
    sent = {}
    for name, run in {"floor": floor_values(target, params), "sync values()": client_values(target)}.items():
        hub.clear_requests()
        log = RequestLog()
        assert run(log) == n, name
        detection = {} if name == "floor" else {"detect": 1}
        assert log.kinds() == {"list": expected_list_requests(n), "token": 1, **detection}, name
        sent[name] = [r.params for r in list_requests(hub)]
    assert sent["floor"] == sent["sync values()"]
    assert all(("fields", "id,name,createdAt") in pairs for pairs in sent["floor"])


def test_report_shows_the_values_table():
    results = _fake_results({"list": 20, "token": 1}, cpu_sync=1.1)
    def row(cpu: float) -> dict:
        return summarize([Sample(wall=1.0, cpu=cpu, records=1000, requests={"list": 20, "token": 1})] * 3)

    results["configs"][0]["values"] = {_report.VALUES_FLOOR: row(0.5), _report.VALUES_SYNC: row(0.6)}
    text = _report.markdown(results)
    assert '## Rows: `core.nodes.values("id", "name", "created_at")`' in text
    assert f"| 20 ms | 1,000 | {_report.VALUES_SYNC} | 1.000 (1.000–1.000) | 1.00× | 0.600 (0.600–0.600) | 600 | 1.20× |" in text
    assert "CPU µs/row" in text


def test_harness_get_floor_sends_the_same_query_as_get_node(hub, target):
    ids = [r["id"] for r in hub.seed("nodes", 5)]
    probe = RequestLog()
    assert client_get(target, ids)(probe) == 5
    url = probe.first("get")
    assert url is not None
    hub.clear_requests()
    log = RequestLog()
    assert floor_get(target, ids, list(url.params.multi_items()))(log) == 5
    assert log.kinds() == {"get": 5, "token": 1}
    assert [r.params for r in hub.requests if r.method == "GET"] == [list(url.params.multi_items())] * 5


def test_concurrency_api_is_detected():
    # issue 5's AsyncQuerySet.concurrency(n); the benchmark measures c=1/4/8 through it
    assert concurrency_api() == "queryset"


def _fake_results(list_requests_sync: dict, cpu_sync: float) -> dict:
    def variant(cpu: float, requests: dict, wall: float = 1.0, peak: int = 100_000) -> dict:
        out = summarize([Sample(wall=wall, cpu=cpu, records=1000, requests=requests)] * 3)
        out["peak_memory"] = peak
        return out

    ok = {"list": 20, "token": 1}
    cfg = {"latency_ms": 20.0, "n": 1000, "page_bytes": {"models": 90_000, "json": 50_000},
           "variants": {"floor": variant(1.0, ok), "sync": variant(cpu_sync, list_requests_sync),
                        "async c=1": variant(1.0, ok, wall=4.0), "async c=4": variant(1.0, ok, wall=1.0)}}
    return {"date": "2000-01-01", "settings": {"page_size": 50, "repetitions": 3, "gets": 0},
            "machine": {k: "x" for k in ("flame_hub", "commit", "python", "httpx", "pydantic", "platform",
                                         "cpus")},
            "concurrency_api": "queryset", "configs": [cfg]}


def test_report_judges_the_targets():
    good = _fake_results({"list": 20, "token": 1}, cpu_sync=1.1)
    judged = {t["target"]: t["met"] for t in _report.targets(good)}
    assert judged["Requests (listing)"] is True
    assert judged["CPU, sync full listing"] is True
    assert judged["Async c=4 vs c=1"] is True
    assert judged["Peak memory, sync iteration"] is True  # 100 kB <= 3 pages of 90 kB
    bad = _fake_results({"list": 21, "token": 1}, cpu_sync=1.3)
    judged = {t["target"]: t for t in _report.targets(bad)}
    assert judged["Requests (listing)"]["met"] is False
    assert "21" in judged["Requests (listing)"]["measured"]
    assert judged["CPU, sync full listing"]["met"] is False
    assert "1.30×" in judged["CPU, sync full listing"]["measured"]
    text = _report.markdown(bad)
    assert "| Requests (listing) |" in text and "**no**" in text
