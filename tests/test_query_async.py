"""Concurrent paging of async QuerySets: the planner (Pager.next_requests, Walk), the bound on
requests in flight, order, the no-duplicate guarantee, errors in a concurrent batch, and the
per-client / per-query settings. In-memory backends; the fake Hub runs in test_faults.py."""

from __future__ import annotations

import time
import uuid

import anyio
import pytest

import flame_hub
from flame_hub.clients._concurrent import ConcurrentBackend
from flame_hub.errors import ServerError
from flame_hub.query import (DEFAULT_PAGE_CONCURRENCY, AsyncQuerySet, PageRequest, Pager, QuerySet, Walk,
                             check_concurrency)
from flame_hub.resources import get_resource

from test_query_eval import MemoryBackend, Rec, offsets  # tests/ is on sys.path

NODES = get_resource("nodes")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class SlowBackend(MemoryBackend):
    """Every async page takes ``delay`` seconds; counts the requests in flight at once and can
    fail the request at one offset."""

    def __init__(self, n: int, *, delay: float = 0.02, fail_at: int | None = None, **kwargs) -> None:
        super().__init__(n, **kwargs)
        self.delay = delay
        self.fail_at = fail_at
        self.in_flight = 0
        self.max_in_flight = 0
        self.finished: list[int] = []  # offsets whose answer arrived
        self.cancelled: list[int] = []

    async def afetch_page(self, resource, params):
        offset = int(dict(params)["page[offset]"])
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            # the failing page answers first, the others later: they are still running then
            await anyio.sleep(self.delay / 4 if offset == self.fail_at else self.delay)
            if offset == self.fail_at:
                self.calls.append(dict(params))
                raise ServerError(f"page at {offset} failed", status_code=503)
            result = self.fetch_page(resource, params)
            self.finished.append(offset)
            return result
        except anyio.get_cancelled_exc_class():
            self.cancelled.append(offset)
            raise
        finally:
            self.in_flight -= 1


def anodes(backend, concurrency: int | None = None) -> AsyncQuerySet:
    qs = AsyncQuerySet(NODES, backend)
    return qs if concurrency is None else qs.concurrency(concurrency)


def recs(*names: str) -> list[Rec]:
    return [Rec(str(uuid.uuid4()), n) for n in names]


# -- the planner ------------------------------------------------------------------------------------


def test_speculative_offsets_follow_the_limit_the_hub_applied() -> None:
    pager = Pager(page_size=50)
    first = pager.next_request()
    pager.receive(first, recs(*["x"] * 30), {"total": 100, "limit": 30, "offset": 0})
    assert pager.stride == 30
    # still asks for 50 (the Hub decides), but expects 30 per page
    assert pager.next_requests(4) == [PageRequest(30, 50), PageRequest(60, 50), PageRequest(90, 50)]


def test_speculative_requests_respect_the_cap() -> None:
    pager = Pager(page_size=50, cap=120)
    pager.receive(pager.next_request(), recs(*["x"] * 50), {"total": 1000})
    assert pager.next_requests(8) == [PageRequest(50, 50), PageRequest(100, 20)]


def test_walk_yields_pages_in_order_and_raises_a_failure_in_its_place() -> None:
    walk = Walk(Pager(page_size=2), lambda r: [("page[offset]", str(r.offset))], width=3)
    assert walk.batch() == ([("page[offset]", "0")],)  # total unknown: one request
    assert [len(p) for p in walk.pages([(recs("a", "b"), {"total": 8})])] == [2]
    assert walk.batch() == ([("page[offset]", "2")], [("page[offset]", "4")], [("page[offset]", "6")])
    boom = ServerError("boom", status_code=503)
    pages = walk.pages([(recs("c", "d"), {"total": 8}), boom, boom])
    assert [p.items[0].name for p in [next(pages)]] == ["c"]  # the page before the failure
    with pytest.raises(ServerError, match="boom"):
        next(pages)
    with pytest.raises(ValueError, match="expected 3 results"):
        list(walk.pages([]))


def test_walk_discards_a_stale_speculative_page_and_asks_again() -> None:
    walk = Walk(Pager(page_size=2), lambda r: r, width=3)
    walk.batch()
    list(walk.pages([(recs("a", "b"), {"total": 6})]))
    assert walk.batch() == (PageRequest(2, 2), PageRequest(4, 2))
    short = (recs("c"), {"total": 6})  # one record less than asked: offset 3, not 4
    assert [p.items[0].name for p in walk.pages([short, (recs("zzz"), {"total": 6})])] == ["c"]
    assert walk.batch() == (PageRequest(3, 2), PageRequest(5, 2))


def test_concurrency_values_are_checked() -> None:
    assert check_concurrency(1) == 1 and DEFAULT_PAGE_CONCURRENCY == 4
    for bad in (0, -1, 1.5, True, "4", None):
        with pytest.raises(ValueError, match="concurrency"):
            check_concurrency(bad)
    with pytest.raises(ValueError):
        anodes(MemoryBackend(1)).concurrency(0)
    with pytest.raises(ValueError):
        flame_hub.AsyncCoreClient("http://hub.test/core/", page_concurrency=0)


# -- async iteration --------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_pages_after_the_first_are_fetched_concurrently_and_yielded_in_order() -> None:
    b = SlowBackend(300)
    names = [r.name async for r in anodes(b)]
    assert names == [f"n{i:04d}" for i in range(300)]
    assert b.max_in_flight == DEFAULT_PAGE_CONCURRENCY
    # one request for the total, then batches of 4, each offset asked once
    assert offsets(b)[0] == (0, 50)
    assert sorted(offsets(b)) == [(o, 50) for o in range(0, 300, 50)]


@pytest.mark.anyio
async def test_concurrency_is_set_per_query_and_per_client() -> None:
    b = SlowBackend(300)
    assert len([r async for r in anodes(b, 8)]) == 300 and b.max_in_flight == 5  # 5 pages were left
    b = SlowBackend(300)
    assert len([r async for r in anodes(b, 1)]) == 300 and b.max_in_flight == 1
    assert offsets(b) == [(o, 50) for o in range(0, 300, 50)]
    b = SlowBackend(300)
    b.page_concurrency = 2  # what AsyncClient(page_concurrency=2) sets
    assert anodes(b).page_concurrency == 2 and anodes(b, 3).page_concurrency == 3
    assert len(await anodes(b).list()) == 300 and b.max_in_flight == 2  # list() is concurrent too
    core = flame_hub.AsyncCoreClient("http://hub.test/core/", page_concurrency=6)
    assert core.nodes.page_concurrency == 6 and core.nodes.concurrency(1).page_concurrency == 1
    assert flame_hub.AsyncCoreClient("http://hub.test/core/").nodes.page_concurrency == 4
    assert "concurrency" not in repr(core.nodes.concurrency(3))  # not a query parameter


@pytest.mark.anyio
async def test_concurrent_paging_beats_sequential_by_about_the_concurrency() -> None:
    async def timed(concurrency: int) -> float:
        b = SlowBackend(450, delay=0.03)  # 9 pages: 1 + 8 after the total is known
        start = time.perf_counter()
        assert len([r async for r in anodes(b, concurrency)]) == 450
        return time.perf_counter() - start

    sequential, concurrent = await timed(1), await timed(4)
    assert sequential >= 9 * 0.03
    assert concurrent < sequential / 2  # 3 rounds of waiting instead of 9


@pytest.mark.anyio
async def test_memory_is_bounded_by_one_batch() -> None:
    b = SlowBackend(1000, delay=0.001)
    seen = 0
    async for _ in anodes(b):
        seen += 1
        # never more than one batch (4 pages of 50) ahead of the consumer
        assert len(b.finished) * 50 - seen < DEFAULT_PAGE_CONCURRENCY * 50
    assert seen == 1000


@pytest.mark.anyio
async def test_a_hub_that_clamps_harder_costs_no_extra_requests() -> None:
    b = MemoryBackend(150, max_limit=30)
    assert [r.name async for r in anodes(b)] == [f"n{i:04d}" for i in range(150)]
    assert sorted(offsets(b)) == [(o, 50) for o in range(0, 150, 30)]  # learned from meta.limit


@pytest.mark.anyio
async def test_short_pages_without_meta_limit_are_re_requested_not_skipped() -> None:
    class NoLimit(MemoryBackend):
        def fetch_page(self, resource, params):
            items, meta = super().fetch_page(resource, params)
            return items, {"total": meta["total"]}

    b = NoLimit(150, max_limit=30)
    names = [r.name async for r in anodes(b)]
    assert names == [f"n{i:04d}" for i in range(150)]  # each once, in order


@pytest.mark.anyio
async def test_a_failure_in_a_concurrent_batch_raises_after_the_pages_before_it() -> None:
    b = SlowBackend(300, fail_at=150)  # the batch is 50, 100, 150, 200
    got = []
    with pytest.raises(ServerError, match="page at 150 failed"):  # the error itself, no ExceptionGroup
        async for r in anodes(b):
            got.append(r.name)
    assert got == [f"n{i:04d}" for i in range(150)]  # pages 0, 50 and 100 arrived first
    assert b.cancelled == [200]  # the page after the failure was stopped
    b = SlowBackend(300, fail_at=150)
    with pytest.raises(ServerError):
        await anodes(b).list()


@pytest.mark.anyio
async def test_one_request_helpers_stay_one_request() -> None:
    b = SlowBackend(300)
    qs = anodes(b, 8)
    assert await qs.count() == 300 and (await qs.first()).name == "n0000"
    assert [r.name async for r in qs[60:70]] == [f"n{i:04d}" for i in range(60, 70)]
    assert len(b.calls) == 3 and b.max_in_flight == 1


def test_sync_iteration_stays_one_request_at_a_time_and_lazy() -> None:
    b = MemoryBackend(300)
    it = iter(QuerySet(NODES, b))
    next(it)
    assert len(b.calls) == 1
    for _ in range(60):
        next(it)
    assert len(b.calls) == 2  # page 2 only once it is needed


@pytest.mark.anyio
async def test_async_for_walks_pages_like_iterator_and_honours_an_overridden_pages() -> None:
    """``async for`` skips ``iterator()`` (one generator layer less per record) but must yield
    the same records and still go through ``pages()`` (the clients' QuerySets detect the Hub's
    version there)."""
    seen: list[str] = []

    class Watched(AsyncQuerySet):
        async def pages(self):
            seen.append("pages")
            async for page in super().pages():
                yield page

    b = SlowBackend(120, delay=0)
    via_iterator = [r.name async for r in Watched(NODES, b).iterator()]
    assert seen == ["pages"]
    assert [r.name async for r in Watched(NODES, b)] == via_iterator == [f"n{i:04d}" for i in range(120)]
    assert seen == ["pages", "pages"]


# -- who runs the concurrent work: the backend (flame_hub.clients._concurrent), not the query layer --


class OnePageAtATime:
    """An async backend with ``afetch_page`` only (no ``afetch_pages``/``arun_each``), over a
    SlowBackend that counts what is in flight."""

    def __init__(self, inner: SlowBackend) -> None:
        self.inner = inner
        self.dialect = inner.dialect

    async def afetch_page(self, resource, params):
        return await self.inner.afetch_page(resource, params)


@pytest.mark.anyio
async def test_a_backend_without_afetch_pages_is_paged_one_after_the_other() -> None:
    b = SlowBackend(300, delay=0.001)
    assert [r.name async for r in anodes(OnePageAtATime(b))] == [f"n{i:04d}" for i in range(300)]
    assert b.max_in_flight == 1 and offsets(b) == [(o, 50) for o in range(0, 300, 50)]
    b = SlowBackend(300, delay=0.001, fail_at=150)  # in the batch 50, 100, 150, 200
    got = []
    with pytest.raises(ServerError, match="page at 150 failed"):
        async for r in anodes(OnePageAtATime(b)):
            got.append(r.name)
    assert got == [f"n{i:04d}" for i in range(150)]  # the pages before the failure, as sync would
    assert offsets(b) == [(o, 50) for o in range(0, 200, 50)]  # nothing asked after the failure


@pytest.mark.anyio
async def test_a_bulk_operation_needs_a_backend_that_runs_its_calls() -> None:
    b = OnePageAtATime(SlowBackend(10))
    deleted: list[str] = []

    async def delete_node(ident) -> None:
        deleted.append(ident)

    b.delete_node = delete_node
    with pytest.raises(TypeError, match=r"delete\(\) of nodes runs its calls with arun_each\(\).*OnePageAtATime"):
        await anodes(b).filter(name="n0001").delete()
    assert b.inner.calls == [] and deleted == []  # refused before anything was sent


@pytest.mark.anyio
async def test_arun_each_bounds_the_calls_in_flight_and_settles_each_once() -> None:
    in_flight, peak, settled = 0, 0, []

    async def call(item: int) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await anyio.sleep(0.002)
        in_flight -= 1

    def settle(item: int, error: Exception | None) -> bool:
        settled.append((item, error))
        return True

    await ConcurrentBackend().arun_each(call, list(range(10)), 3, settle)
    assert peak == 3 and sorted(settled) == [(i, None) for i in range(10)]


@pytest.mark.anyio
async def test_arun_each_starts_nothing_after_settle_says_stop() -> None:
    started, settled = [], []
    boom = ServerError("boom", status_code=503)

    async def call(item: int) -> None:
        started.append(item)
        if item == 1:
            raise boom  # at once, while item 0 is still running
        await anyio.sleep(0.01)

    def settle(item: int, error: Exception | None) -> bool:
        settled.append((item, error))
        return error is None

    await ConcurrentBackend().arun_each(call, list(range(10)), 3, settle)  # the error is not raised
    assert started == [0, 1]  # the third worker found the stop before its first call
    assert settled == [(1, boom), (0, None)]  # the running call finished and was settled
