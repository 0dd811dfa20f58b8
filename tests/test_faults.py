"""Fault injection on the fake Hub, through the public clients (issue 5 §4-§6).

Every scenario runs twice, with ``CoreClient`` and with ``AsyncCoreClient`` (the ``drv``
fixture), and checks the outcome AND the exact requests the Hub received (``hub.requests``).
Backoff sleeps are recorded instead of slept (the session's sleep is swapped for a recorder);
the 429 scenario really waits, once per client. The session-level twins of these scenarios
(raw ``HubSession`` on the in-process transport) live in ``tests/test_http.py``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import anyio
import httpx
import pytest

from _jwt import jwt

import flame_hub
from flame_hub.dialects import LEGACY
from flame_hub.errors import HubConnectionError, HubTimeout, ServerError

pytestmark = pytest.mark.anyio

NODES = "/core/nodes"


# ---------------------------------------------------------------------------- the two drivers
class Driver:
    """Runs one scenario with the sync or the async client: ``await drv.call(f, ...)`` calls a
    helper (and awaits it if async), ``drv.iterate`` walks a QuerySet (``for`` / ``async for``),
    ``drv.together`` runs workers as threads or as tasks."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.is_async = name == "async"

    def __repr__(self) -> str:
        return self.name

    def client(self, kind: str, base_url: str, auth: Any, **kwargs: Any) -> Any:
        cls = getattr(flame_hub, ("Async" if self.is_async else "") + kind)
        return cls(base_url=base_url, auth=auth, **kwargs)

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        result = fn(*args, **kwargs)
        return await result if self.is_async else result

    async def close(self, client: Any) -> None:
        await self.call(client.aclose if self.is_async else client.close)

    async def iterate(self, qs: Any, each: Callable[[int], None] = lambda i: None) -> list:
        """Every record of ``qs``; ``each(i)`` runs after record ``i`` arrived."""
        out: list = []
        if self.is_async:
            async for item in qs:
                out.append(item)
                each(len(out) - 1)
        else:
            for item in qs:
                out.append(item)
                each(len(out) - 1)
        return out

    async def together(self, n: int, work: Callable[[], Any]) -> list:
        """``work`` run by ``n`` threads (sync) or tasks (async) released at the same moment."""
        results: list = [None] * n
        if self.is_async:
            async def task(i: int) -> None:
                results[i] = await work()

            async with anyio.create_task_group() as group:
                for i in range(n):
                    group.start_soon(task, i)
            return results
        barrier = threading.Barrier(n)
        errors: list[BaseException] = []

        def thread(i: int) -> None:
            barrier.wait()
            try:
                results[i] = work()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
                errors.append(exc)

        threads = [threading.Thread(target=thread, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return results

    @property
    def width(self) -> int:
        """List pages fetched at once after the first (the async default page_concurrency)."""
        return 4 if self.is_async else 1


@pytest.fixture(params=["sync", "async"])
def drv(request) -> Driver:
    return Driver(request.param)


@pytest.fixture
def hub(fake_hub):
    return fake_hub


class Setup:
    """A logged-in core client on the fake Hub, its recorded backoff sleeps, and the request log
    cleared after the login."""

    def __init__(self, drv: Driver, hub: Any, client: Any, sleeps: list[float]) -> None:
        self.drv, self.hub, self.core, self.sleeps = drv, hub, client, sleeps


async def make_core(drv: Driver, hub: Any, monkeypatch: pytest.MonkeyPatch | None, **kwargs: Any) -> Setup:
    auth = flame_hub.auth.PasswordAuth(username="admin", password="start123", base_url=hub.auth_url)
    core = drv.client("CoreClient", hub.core_url, auth, **kwargs)
    sleeps: list[float] = []
    if monkeypatch is not None:  # record backoff instead of sleeping (raises if the hook is gone)
        if drv.is_async:
            async def record(seconds: float) -> None:
                sleeps.append(seconds)
        else:
            record = sleeps.append
        monkeypatch.setattr(core.session, "_sleep", record)
    await drv.call(core.get_nodes)  # log in, so the log below shows only the calls under test
    hub.clear_requests()
    return Setup(drv, hub, core, sleeps)


@pytest.fixture
async def s(drv, hub, monkeypatch):
    setup = await make_core(drv, hub, monkeypatch)
    yield setup
    await drv.close(setup.core)


def calls(hub) -> list[str]:
    return [f"{r.method} {r.path}" for r in hub.requests]


def offset(r) -> int:
    return int(r.query["page[offset]"])


def bearer(r) -> str | None:
    return r.headers.get("authorization")


def grants(hub) -> list[str]:
    return [r.json["grant_type"] for r in hub.requests if r.path == "/auth/token"]


def assert_backoff(sleeps: list[float], n: int) -> None:
    """``n`` waits of the default policy: 0.5 s, 1 s, ... each minus up to 25 % jitter."""
    assert len(sleeps) == n
    for attempt, seconds in enumerate(sleeps):
        assert 0.75 * 0.5 * 2**attempt <= seconds <= 0.5 * 2**attempt


# ---------------------------------------------------------------------------- issue 5 §6
async def test_503_twice_then_success_on_a_list(s):
    s.hub.seed("nodes", 3)
    s.hub.fail_next("GET", NODES, status=503, times=2)
    nodes = await s.drv.call(s.core.get_nodes)
    assert sorted(n.name for n in nodes) == ["node-0", "node-1", "node-2"]
    assert calls(s.hub) == ["GET /core/nodes"] * 3
    first, *again = s.hub.requests
    assert all(r.params == first.params for r in again)  # the same page asked again
    assert_backoff(s.sleeps, 2)


async def test_503_on_a_create_is_not_retried(s):
    s.hub.fail_next("POST", NODES, status=503)
    with pytest.raises(ServerError) as info:
        await s.drv.call(s.core.create_node, name="lab-1")
    assert info.value.status_code == 503 and info.value.method == "POST"
    assert calls(s.hub) == ["POST /core/nodes"] and s.sleeps == []
    assert s.hub.records("nodes") == []  # and nothing was created by a retry


async def test_429_with_retry_after_waits_about_a_second(drv, hub):
    s = await make_core(drv, hub, None)  # the real sleep this time
    try:
        hub.fail_next("GET", NODES, status=429, headers={"Retry-After": "1"})
        start = time.monotonic()
        assert await drv.call(s.core.get_nodes) == []
        elapsed = time.monotonic() - start
    finally:
        await drv.close(s.core)
    assert 0.9 <= elapsed < 5
    assert calls(hub) == ["GET /core/nodes"] * 2


async def test_dropped_connection_while_iterating_300_records(s):
    seeded = {r["id"] for r in s.hub.seed("nodes", 300)}

    def drop_once(i: int) -> None:
        if i == 25:  # in the middle of page 1: the next list request loses its connection
            s.hub.drop_next("GET", NODES)

    ids = [str(n.id) for n in await s.drv.iterate(s.core.nodes, drop_once)]
    assert len(ids) == len(set(ids)) == 300 and set(ids) == seeded  # every record exactly once
    lists = s.hub.requests
    assert calls(s.hub) == ["GET /core/nodes"] * 7  # 6 pages + the one sent again
    dropped = offset(lists[1])  # the first request after the fault (page 2; async: one of 4)
    assert dropped in range(50, 50 + 50 * s.drv.width, 50)
    assert sorted(offset(r) for r in lists) == sorted([*range(0, 300, 50), dropped])
    assert offset(lists[0]) == 0 and all(r.query["page[limit]"] == "50" for r in lists)
    assert_backoff(s.sleeps, 1)


async def test_tokens_expire_while_iterating(s):
    s.hub.seed("nodes", 300)

    def expire(i: int) -> None:
        if i == 25:
            s.hub.expire_tokens()

    ids = [n.id for n in await s.drv.iterate(s.core.nodes, expire)]
    assert len(ids) == len(set(ids)) == 300
    assert grants(s.hub) == ["refresh_token"]  # one re-authentication
    reqs = s.hub.requests
    token_at = calls(s.hub).index("POST /auth/token")
    lists = [r for r in reqs if r.path == NODES]
    old = bearer(lists[0])
    stale = [offset(r) for r in lists if bearer(r) == old]
    fresh = [offset(r) for r in lists if bearer(r) != old]
    # the page after the expiry (async: the whole batch in flight) was refused once, then
    # every page from there on was fetched once with the new token
    assert sorted(stale) == [0, *range(50, 50 + 50 * s.drv.width, 50)]
    assert sorted(fresh) == list(range(50, 300, 50))
    first_fresh = next(i for i, r in enumerate(reqs) if r.path == NODES and bearer(r) != old)
    assert first_fresh > token_at  # the new token came from that one grant
    assert len(reqs) == len(stale) + 1 + len(fresh)


async def test_twenty_workers_share_one_client_when_the_token_expires(s):
    s.hub.latency = 0.1  # the 20 requests overlap: all are sent before the first 401 comes back
    s.hub.expire_tokens()
    results = await s.drv.together(20, lambda: s.core.get_nodes())
    assert results == [[]] * 20
    assert grants(s.hub) == ["refresh_token"]  # exactly one refresh grant for all 20
    lists = [r for r in s.hub.requests if r.path == NODES]
    by_token = Counter(bearer(r) for r in lists)
    assert len(by_token) == 2 and sorted(by_token.values()) == [20, 20]  # 20 refused, 20 again
    new = bearer(lists[-1])
    s.hub.latency = 0
    s.hub.clear_requests()
    assert await s.drv.call(s.core.get_nodes) == []  # the session survives: no new grant
    assert calls(s.hub) == ["GET /core/nodes"] and bearer(s.hub.requests[0]) == new


async def test_retries_exhausted_raise_the_last_answer(s):
    for status, word in ((503, "first"), (504, "second"), (502, "third")):
        s.hub.fail_next("GET", NODES, status=status, body={"statusCode": status, "message": f"{word} try"})
    with pytest.raises(ServerError, match="third try") as info:
        await s.drv.call(s.core.get_nodes)
    err = info.value
    assert err.status_code == 502 and err.response.status_code == 502
    assert "third try" in err.body and "first" not in err.body
    assert err.method == "GET" and err.url.startswith(s.hub.core_url + "nodes")
    assert calls(s.hub) == ["GET /core/nodes"] * 3  # max_retries=2: three attempts
    assert_backoff(s.sleeps, 2)


async def test_retries_exhausted_on_dropped_connections(s):
    s.hub.drop_next("GET", NODES, times=3)
    with pytest.raises(HubConnectionError) as info:
        await s.drv.call(s.core.get_nodes)
    assert type(info.value) is HubConnectionError and info.value.method == "GET"
    assert calls(s.hub) == ["GET /core/nodes"] * 3


async def test_max_retries_per_client(drv, hub, monkeypatch):
    s = await make_core(drv, hub, monkeypatch, max_retries=0)
    try:
        hub.fail_next("GET", NODES, status=503)
        with pytest.raises(ServerError):
            await drv.call(s.core.get_nodes)
    finally:
        await drv.close(s.core)
    assert calls(hub) == ["GET /core/nodes"] and s.sleeps == []


async def test_max_retries_per_call(s):
    """``client.with_options(max_retries=...)`` changes one call; the client keeps its own."""
    s.hub.fail_next("GET", NODES, status=503, times=3)
    with pytest.raises(ServerError):
        await s.drv.call(s.core.with_options(max_retries=0).get_nodes)
    assert calls(s.hub) == ["GET /core/nodes"]
    s.hub.clear_requests()
    assert await s.drv.call(s.core.get_nodes) == []  # default 2 retries: 503, 503, then 200
    assert calls(s.hub) == ["GET /core/nodes"] * 3
    s.hub.clear_requests()
    s.hub.fail_next("GET", NODES, status=503, times=4)
    assert await s.drv.call(s.core.with_options(max_retries=4).nodes.count) == 0
    assert calls(s.hub) == ["GET /core/nodes"] * 5
    with pytest.raises(ValueError, match="max_retries"):
        s.core.with_options(max_retries=-1)


async def test_with_options_after_a_manager_was_used(s):
    """Regression: a QuerySet cached on the client (``core.nodes`` read once) must not leak into
    ``with_options`` copies — the copy's managers use the copy's retry settings."""
    assert await s.drv.call(s.core.nodes.count) == 0   # caches ``nodes`` on the original client
    s.hub.clear_requests()
    s.hub.fail_next("GET", NODES, status=503)
    with pytest.raises(ServerError):
        await s.drv.call(s.core.with_options(max_retries=0).nodes.count)
    assert calls(s.hub) == ["GET /core/nodes"]
    s.hub.clear_requests()
    s.hub.fail_next("GET", NODES, status=503)
    assert await s.drv.call(s.core.nodes.count) == 0   # the original keeps retrying
    assert calls(s.hub) == ["GET /core/nodes"] * 2


async def test_a_retried_delete_that_finds_nothing_is_done(s):
    node = await s.drv.call(s.core.create_node, name="gone-twice")
    s.hub.clear_requests()
    # the first DELETE is applied, but its answer never arrives: the retry answers 404
    s.hub.fail_next("DELETE", f"{NODES}/{node.id}", status=504)
    s.hub.fail_next("DELETE", f"{NODES}/{node.id}", status=404)
    await s.drv.call(s.core.delete_node, node)
    assert calls(s.hub) == [f"DELETE /core/nodes/{node.id}"] * 2


# ---------------------------------------------------------------------------- issue 5 §4
class SlowFileServer:
    """127.0.0.1 HTTP server answering every GET with ``chunks`` bytes chunks, ``gap`` seconds
    apart (``gaps`` overrides the gap per chunk): a slow download."""

    def __init__(self, chunks: int, gap: float, size: int = 1000, gaps: dict[int, float] | None = None) -> None:
        self.body = [bytes([65 + i]) * size for i in range(chunks)]
        self.gaps = {i: gaps.get(i, gap) if gaps else gap for i in range(chunks)}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(sum(map(len, outer.body))))
                self.end_headers()
                try:
                    for i, chunk in enumerate(outer.body):
                        if i:
                            time.sleep(outer.gaps[i])
                        self.wfile.write(chunk)
                        self.wfile.flush()
                except OSError:
                    pass  # the client gave up

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/storage/"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def test_downloads_time_out_per_chunk_not_per_file(drv, tmp_path):
    file_id = str(uuid.uuid4())
    timeout = httpx.Timeout(5.0, read=0.25)
    slow = SlowFileServer(chunks=6, gap=0.1)  # 0.5 s in all: twice the read timeout
    storage = drv.client("StorageClient", slow.url, jwt(), timeout=timeout)
    try:
        start = time.monotonic()
        path = await drv.call(storage.download_bucket_file, file_id, tmp_path / "slow.bin", chunk_size=1000)
        assert time.monotonic() - start > timeout.read
        assert path.read_bytes() == b"".join(slow.body)
    finally:
        await drv.close(storage)
        slow.close()

    stalled = SlowFileServer(chunks=3, gap=0.05, gaps={2: 1.0})  # one gap longer than the timeout
    storage = drv.client("StorageClient", stalled.url, jwt(), timeout=timeout)
    try:
        with pytest.raises(HubTimeout, match="ReadTimeout"):
            await drv.call(storage.download_bucket_file, file_id, tmp_path / "stalled.bin")
    finally:
        await drv.close(storage)
        stalled.close()
    assert list(tmp_path.iterdir()) == [tmp_path / "slow.bin"]  # no partial file left


# ---------------------------------------------------------------------------- issue 5 §5
MALFORMED = ["not-a-uuid", "", "16c9e5fe-546f-4754-974a", None, 42]


async def test_malformed_ids_never_reach_the_hub(s):
    core, drv = s.core, s.drv
    for bad in MALFORMED:
        for call, args, kwargs in ((core.get_node, (bad,), {}), (core.delete_node, (bad,), {}),
                                   (core.update_node, (bad,), {"hidden": True}),
                                   (core.create_node, ("lab",), {"realm_id": bad if bad is not None else "x"}),
                                   (core.get_analysis_node, (bad,), {}),
                                   (core.send_analysis_command, (bad, "configurationLock"), {})):
            with pytest.raises(ValueError):
                await drv.call(call, *args, **kwargs)
    assert s.hub.requests == []


async def test_bulk_deletes_refuse_an_empty_or_unknown_filter(s):
    analysis_id = str(uuid.uuid4())
    for bad in (None, "", "*", "not-a-uuid", {}, []):
        with pytest.raises(ValueError):
            await s.drv.call(s.core.delete_analysis_logs, bad)
        with pytest.raises(ValueError):
            await s.drv.call(s.core.delete_analysis_node_logs, analysis_id, bad)
    with pytest.raises(TypeError):
        await s.drv.call(s.core.delete_analysis_node_logs, analysis_id)  # node_id is required
    with pytest.raises(TypeError):
        await s.drv.call(s.core.delete_analysis_logs, analysis_id, filter={"level": "error"})
    with pytest.raises(TypeError):
        await s.drv.call(s.core.delete_analysis_logs)
    assert s.hub.requests == []


async def test_filter_values_the_hub_cannot_carry_raise_before_sending(s, hub):
    core, drv = s.core, s.drv
    refused = [
        lambda: core.nodes.filter(nmae="typo"),                 # unknown key: the Hub drops it
        lambda: core.nodes.filter(name=" padded "),             # the Hub trims values
        lambda: core.nodes.filter(name=""),                     # the Hub drops empty values
        lambda: core.nodes.filter(name="12"),                   # the Hub reads it as a number
        lambda: core.nodes.filter(name="true"),                 # ... as a boolean
        lambda: core.nodes.sort("nmae"),                        # unknown sort key
        lambda: core.nodes.include("nothing"),                  # unknown relation
        lambda: core.nodes.filter(name__in=[f"n{i:05d}" for i in range(2000)]).count(),  # > 16 KiB head
        lambda: core.find_nodes(filter={"nmae": "typo"}),
        lambda: core.analysis_node_logs.filter(analysis_id=str(uuid.uuid4())).count(),   # node_id missing
    ]
    for make in refused:
        with pytest.raises(ValueError):
            await drv.call(make)
    legacy = drv.client("CoreClient", hub.core_url, jwt(), dialect=LEGACY)
    try:
        with pytest.raises(ValueError):  # old Hubs split values on commas and have no expressions
            await drv.iterate(legacy.nodes.filter(name="a,b"))
    finally:
        await drv.close(legacy)
    assert s.hub.requests == []
