"""Iteration that survives its own loop body (issue 12), against the fake Hub on both eras.

Every case runs sync, async with one page at a time and async with four pages at a time, and
asserts the exact list requests (``hub.requests``). Nodes are paged by offset (the Hub cannot
sort them by id): a page read after ``meta.total`` shrank is read again further back. Projects
are sorted by id: their pages continue after the last id (keyset) and nothing shifts.
"""

from __future__ import annotations

import inspect

import anyio
import pytest

import flame_hub
from flame_hub.query import Pager, PageRequest

MODES = ("sync", "async-1", "async-4")


def list_requests(hub, resource: str) -> list:
    return [r for r in hub.requests if r.method == "GET" and r.path == f"/core/{resource}"]


def offsets(hub, resource: str) -> list[int]:
    """The ``page[offset]`` of every list request, sorted (concurrent requests of one batch
    reach the Hub in any order)."""
    return sorted(int(r.query["page[offset]"]) for r in list_requests(hub, resource))


def run_loop(mode: str, hub_env, auth, make_qs, body) -> list:
    """Iterate ``make_qs(client)`` in ``mode``, calling ``body(client, record)`` for each record
    (awaited on the async client); returns the ids yielded, in order. The Hub's version is
    detected and the recorded requests cleared before the loop starts."""
    hub = hub_env.fake
    if mode == "sync":
        with flame_hub.CoreClient(base_url=hub_env.core_url, auth=auth) as core:
            core.detect_dialect()
            hub.clear_requests()
            out = []
            for record in make_qs(core):
                out.append(str(record.id))
                body(core, record)
            return out

    async def main() -> list:
        async with flame_hub.AsyncCoreClient(base_url=hub_env.core_url, auth=auth) as core:
            await core.detect_dialect()
            hub.clear_requests()
            out = []
            async for record in make_qs(core).concurrency(int(mode.split("-")[1])):
                out.append(str(record.id))
                result = body(core, record)
                if inspect.isawaitable(result):
                    await result
            return out

    return anyio.run(main)


def seed(hub, resource: str, n: int, **fields) -> set:
    return {r["id"] for r in hub.seed(resource, n, **fields)}


def remaining(hub, resource: str, ids: set) -> set:
    return {r["id"] for r in hub.records(resource)} & ids


def visible(hub, ids: set) -> set:
    return {r["id"] for r in hub.records("nodes") if r["id"] in ids and not r["hidden"]}


# exact list requests: the offsets sent per mode (sync: 0, 50, 0, 0 in this order). Offset paging: the page read after the loop
# deleted page 1 sees meta.total shrink and is read again from 0; from then on the next page is
# placed where the observed shrink predicts (0 again). Async with 4 also sends the speculative
# page after each one it sends.
DELETE_130 = {
    "nodes": {"sync": [0, 0, 0, 50], "async-1": [0, 0, 0, 50], "async-4": [0, 0, 50, 50, 100]},
    "projects": {m: [0, 0, 0] for m in MODES},  # keyset: filter[id]=>last id, offset 0
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("resource", ["nodes", "projects"])
def test_delete_in_loop_over_130_leaves_none(fake_hub, hub_env, password_auth, resource, mode) -> None:
    ids = seed(fake_hub, resource, 130, name="tmp-{i}")
    fake_hub.seed(resource, 5, name="keep-{i}")
    singular = resource[:-1]
    got = run_loop(mode, hub_env, password_auth,
                   lambda c: getattr(c, resource).filter(name__startswith="tmp-"),
                   lambda c, rec: getattr(c, f"delete_{singular}")(rec))
    assert sorted(got) == sorted(ids)  # each exactly once
    assert remaining(fake_hub, resource, ids) == set()
    assert len(fake_hub.records(resource)) >= 5  # the others are untouched
    assert offsets(fake_hub, resource) == DELETE_130[resource][mode]
    if resource == "projects":
        keyset = [r.query.get("filter[id]") for r in list_requests(fake_hub, resource)]
        assert keyset[0] is None and all(k and k.startswith(">") for k in keyset[1:])


@pytest.mark.parametrize("mode", MODES)
def test_hide_in_loop_over_110_leaves_none_visible(fake_hub, hub_env, password_auth, mode) -> None:
    ids = seed(fake_hub, "nodes", 110, name="tmp-{i}", hidden=False)
    got = run_loop(mode, hub_env, password_auth,
                   lambda c: c.nodes.filter(name__startswith="tmp-", hidden=False),
                   lambda c, rec: c.update_node(rec, hidden=True))
    assert sorted(got) == sorted(ids)
    assert visible(fake_hub, ids) == set()
    assert offsets(fake_hub, "nodes") == DELETE_130["nodes"][mode]  # the same pages


@pytest.mark.parametrize("mode", MODES)
def test_an_undisturbed_loop_still_takes_ceil_n_over_50_requests(fake_hub, hub_env, password_auth, mode) -> None:
    ids = seed(fake_hub, "nodes", 130, name="tmp-{i}")
    got = run_loop(mode, hub_env, password_auth, lambda c: c.nodes.filter(name__startswith="tmp-"),
                   lambda c, rec: None)
    assert sorted(got) == sorted(ids)
    assert offsets(fake_hub, "nodes") == [0, 50, 100]


@pytest.mark.parametrize("mode", MODES)
def test_records_created_by_someone_else_do_not_duplicate_or_hide_others(
        fake_hub, hub_env, password_auth, mode) -> None:
    """Another client creates matching nodes while the loop runs (they sort after the cursor):
    every original is yielded once, nothing twice; a new record may or may not be yielded."""
    ids = seed(fake_hub, "nodes", 120, name="tmp-{i}")
    other = flame_hub.CoreClient(base_url=hub_env.core_url, auth=password_auth)
    count = 0

    def body(core, record) -> None:
        nonlocal count
        count += 1
        if count in (10, 60):
            for i in range(5):
                other.create_node(name=f"tmp-new-{count}-{i}")

    with other:
        got = run_loop(mode, hub_env, password_auth, lambda c: c.nodes.filter(name__startswith="tmp-"), body)
    assert len(got) == len(set(got))
    assert ids <= set(got)
    if hub_env.version == "0.14.0":  # sorted by createdAt: the new ones come last
        # sync/async-1: page 2 is read after the first 5 were created, page 3 after the second
        # 5 (all 130 are seen); async-4 reads pages 2 and 3 together, before the second 5 exist.
        # (Hub 0.8.5 lists nodes in id order: the new ones land anywhere, some in front.)
        assert len(got) == {"async-4": 125}.get(mode, 130)
    assert offsets(fake_hub, "nodes") == [0, 50, 100]


@pytest.mark.era("0.14.0")  # nodes cannot be sorted on Hub 0.8.5
@pytest.mark.parametrize("mode", MODES)
def test_records_created_in_front_of_the_cursor_are_not_yielded_twice(
        fake_hub, hub_env, password_auth, mode) -> None:
    ids = seed(fake_hub, "nodes", 120, name="tmp-{i:03}")

    def body(core, record) -> None:
        if record.name == "tmp-010":  # sort before every seeded name: page 2 re-serves 3 records
            fake_hub.seed("nodes", 3, name="tmp-000-new-{i}")

    got = run_loop(mode, hub_env, password_auth,
                   lambda c: c.nodes.filter(name__startswith="tmp-").sort("name"), body)
    assert len(got) == len(set(got)) == 120 and set(got) == ids
    assert offsets(fake_hub, "nodes") == [0, 50, 100]


@pytest.mark.parametrize("mode", MODES)
def test_keyset_loop_deleting_while_others_create_in_front_and_behind(
        fake_hub, hub_env, password_auth, mode) -> None:
    """Projects page after the last id: the loop deletes every project while someone else adds
    projects whose ids sort before everything (never yielded: they were not there when their
    place was read) and after everything (yielded once, when reached)."""
    ids = seed(fake_hub, "projects", 120, name="tmp-{i}")
    created: dict[str, set] = {"front": set(), "behind": set()}

    def body(core, record) -> None:
        if str(record.id) in ids and len(remaining(fake_hub, "projects", ids)) in (110, 60):
            n = len(created["front"])
            for where, prefix in (("front", "00000000"), ("behind", "ffffffff")):
                created[where] |= seed(fake_hub, "projects", 5, name=f"tmp-{where}-{n}-{{i}}",
                                       id=lambda i: f"{prefix}-0000-4000-8000-{n + i:012}")
        return getattr(core, "delete_project")(record)

    got = run_loop(mode, hub_env, password_auth, lambda c: c.projects.filter(name__startswith="tmp-"), body)
    assert len(got) == len(set(got)) == 130
    assert set(got) == ids | created["behind"]
    assert remaining(fake_hub, "projects", ids) == set()
    assert offsets(fake_hub, "projects") == [0, 0, 0]  # 130 records, 3 pages (keyset)


# -- the planner alone ---------------------------------------------------------------------------


class Rec:
    def __init__(self, ident: str) -> None:
        self.id = ident


def test_a_page_read_after_the_total_shrank_is_read_again_further_back() -> None:
    pager = Pager(page_size=50)
    (first,) = pager.next_requests(1)
    pager.receive(first, [Rec(f"a{i}") for i in range(50)], {"total": 130})
    (second,) = pager.next_requests(1)
    assert second == PageRequest(50, 50)
    # 50 records went away in front of the cursor: positions 0..49 now hold unseen records
    assert pager.receive(second, [Rec(f"c{i}") for i in range(30)], {"total": 80}) is None
    (again,) = pager.next_requests(1)
    assert again == PageRequest(0, 50)
    page = pager.receive(again, [Rec(f"b{i}") for i in range(50)], {"total": 80})
    assert [r.id for r in page.items] == [f"b{i}" for i in range(50)]
    # the loop body deleted again: the next read is placed where that predicts
    (predicted,) = pager.next_requests(1)
    assert predicted == PageRequest(0, 50)


def test_a_growing_total_is_never_a_reason_to_read_again() -> None:
    pager = Pager(page_size=50)
    (first,) = pager.next_requests(1)
    pager.receive(first, [Rec(f"a{i}") for i in range(50)], {"total": 100})
    (second,) = pager.next_requests(1)
    page = pager.receive(second, [Rec("a49"), *[Rec(f"b{i}") for i in range(49)]], {"total": 101})
    assert page is not None and len(page.items) == 49  # the re-served record is dropped


def test_keyset_paging_keeps_no_set_of_seen_ids() -> None:
    pager = Pager(page_size=50, keyset=True)
    (first,) = pager.next_requests(4)
    pager.receive(first, [Rec(f"{i:03}") for i in range(50)], {"total": 120})
    assert pager.next_requests(4) == [PageRequest(0, 50, after="049")]  # one at a time
    second = pager.next_request()
    page = pager.receive(second, [Rec(f"{i:03}") for i in range(50, 100)], {"total": 70})
    assert page.total == 120 and page.offset == 50
    assert pager._seen == set()
    third = pager.next_request()
    assert third.after == "099"
    pager.receive(third, [Rec(f"{i:03}") for i in range(100, 120)], {"total": 20})
    assert pager.done and pager.next_request() is None


class Store:
    """An in-memory list endpoint: ``fetch`` answers a request like the Hub (offset into the
    records that exist now, ``meta.total`` counted now)."""

    def __init__(self, n: int) -> None:
        self.records = [Rec(f"{i:04}") for i in range(n)]
        self.requests = 0

    def fetch(self, req: PageRequest):
        self.requests += 1
        return self.records[req.offset:req.offset + req.limit], {"total": len(self.records)}


@pytest.mark.parametrize("width,expected", [(1, 11), (4, 14)])
def test_a_long_deleting_loop_costs_one_discarded_read_then_one_request_per_page(width, expected) -> None:
    """500 records, the loop deletes each one it gets: ⌈500/50⌉ = 10 reads plus the one read that
    shows the loop deletes. With 4 pages at a time that showing batch (4 requests) is discarded;
    the later batches are placed back and planned for the total the back-step expects."""
    from flame_hub.query import Walk

    store = Store(500)
    walk = Walk(Pager(page_size=50), lambda req: req, width)
    got = []
    while (batch := walk.batch()) is not None:
        for page in walk.pages([store.fetch(req) for req in batch]):
            for rec in page.items:
                got.append(rec.id)
                store.records.remove(rec)
    assert sorted(got) == [f"{i:04}" for i in range(500)] and store.records == []
    assert store.requests == expected


def test_offset_pages_drop_repeats_whatever_the_page_holds() -> None:
    """The page-level fast path of the de-duplication falls back record by record for a page
    with a repeat (within it or of an earlier page), a record without an id, mixed id types, or
    a cap that a repeat in its prefix would otherwise shorten; UUIDs and their strings stay
    distinct keys, as before."""
    import uuid

    u = [uuid.UUID(int=i) for i in range(1, 6)]
    pager = Pager(page_size=4, cap=10)
    first = pager.next_request()
    page = pager.receive(first, [{"id": u[0]}, {"id": u[1]}], {"total": 20})
    assert [r["id"] for r in page.items] == [u[0], u[1]]
    page = pager.receive(pager.next_request(), [{"id": u[1]}, {"id": u[2]}, {"id": u[2]}, {"id": None}], {"total": 20})
    assert [r["id"] for r in page.items] == [u[2], None]
    page = pager.receive(pager.next_request(), [{"name": "x"}, {"id": str(u[0])}, {"id": u[0]}], {"total": 20})
    assert [r.get("id") for r in page.items] == [None, str(u[0])]
    # cap 10 - 6 = 4 left: the repeat of u[3] in the first four records lets u[4] in
    page = pager.receive(pager.next_request(), [{"id": u[3]}, {"id": u[3]}, {"id": "a"}, {"id": "b"},
                                                {"id": u[4]}, {"id": "c"}], {"total": 20})
    assert [r["id"] for r in page.items] == [u[3], "a", "b", u[4]]
    assert pager.remaining == 0 and pager.done
    assert pager._seen == {x.int for x in u} | {str(u[0]), "a", "b"}
