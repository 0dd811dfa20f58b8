"""QuerySet evaluation against an in-memory backend: page walking, stop rules, dedupe, caching,
one-request helpers, slicing, limits, pages, find_* translation and the async twin."""

from __future__ import annotations

import uuid
import warnings
from dataclasses import dataclass
from typing import Any, get_args

import pytest

from flame_hub import types as hub_types
from flame_hub.clients._concurrent import ConcurrentBackend
from flame_hub.dialects import CURRENT, LEGACY
from flame_hub.errors import MultipleObjectsReturned, NotFound
from flame_hub.query import (AsyncQuerySet, Page, PageBackend, AsyncPageBackend, PageRequest, Pager, Q,
                             QuerySet, queryset_from_find_kwargs)
from flame_hub.resources import get_resource


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass(frozen=True)
class Rec:
    id: str | None
    name: str


class MemoryBackend(ConcurrentBackend):
    """Implements both backend protocols over a list of records: applies ``filter[name]``
    (equality), ``sort`` by name (asc/desc), ``page[offset]`` and ``page[limit]`` (capped at
    ``max_limit``) and records every call's params. Batches of async pages run concurrently
    as on the async clients (their :class:`ConcurrentBackend`)."""

    def __init__(self, n: int = 0, *, max_limit: int = 50, dialect: Any = CURRENT,
                 total_bias: int = 0) -> None:
        self.dialect = dialect
        self.records = [Rec(str(uuid.UUID(int=i + 1)), f"n{i:04d}") for i in range(n)]
        self.max_limit = max_limit
        self.total_bias = total_bias  # a Hub whose meta.total is off
        self.calls: list[dict[str, str]] = []
        self.on_fetch: Any = None

    def fetch_page(self, resource: Any, params: list[tuple[str, str]]) -> tuple[list[Any], dict]:
        p = dict(params)
        assert len(p) == len(params), f"duplicate query keys: {params}"
        self.calls.append(p)
        if self.on_fetch:
            self.on_fetch(self, len(self.calls))
        rows = list(self.records)
        if "filter[name]" in p:
            rows = [r for r in rows if r.name == p["filter[name]"]]
        if p.get("sort", "").lstrip("-").startswith("name"):
            rows.sort(key=lambda r: r.name, reverse=p["sort"].startswith("-"))
        offset = int(p.get("page[offset]", 0))
        limit = min(int(p.get("page[limit]", self.max_limit)), self.max_limit)
        return rows[offset:offset + limit], {"total": len(rows) + self.total_bias, "limit": limit, "offset": offset}

    async def afetch_page(self, resource: Any, params: list[tuple[str, str]]) -> tuple[list[Any], dict]:
        return self.fetch_page(resource, params)


NODES = get_resource("nodes")
PROJECTS = get_resource("projects")  # sortable by id and name


def nodes(backend: MemoryBackend) -> QuerySet:
    return QuerySet(NODES, backend)


def offsets(backend: MemoryBackend) -> list[tuple[int, int]]:
    return [(int(c["page[offset]"]), int(c["page[limit]"])) for c in backend.calls]


def test_backend_satisfies_both_protocols() -> None:
    b = MemoryBackend()
    assert isinstance(b, PageBackend) and isinstance(b, AsyncPageBackend)


# -- page walking and stop rules --------------------------------------------------------------


def test_iteration_walks_every_page_lazily() -> None:
    b = MemoryBackend(120)
    it = iter(nodes(b).filter(hidden=False))
    assert b.calls == []  # nothing sent before the first item is asked for
    first = next(it)
    assert first.name == "n0000" and len(b.calls) == 1
    rest = list(it)
    assert len(rest) == 119
    assert offsets(b) == [(0, 50), (50, 50), (100, 50)]  # offset >= total after page 3: stop
    assert all(c["filter[hidden]"] == "false" and c["sort"] == "createdAt" for c in b.calls)


def test_offset_advances_by_items_received_not_requested() -> None:
    b = MemoryBackend(70, max_limit=30)  # a Hub that clamps harder than asked
    assert [r.name for r in nodes(b)] == [f"n{i:04d}" for i in range(70)]
    assert offsets(b) == [(0, 50), (30, 50), (60, 50)]


def test_stops_on_an_empty_page_even_if_total_says_more() -> None:
    b = MemoryBackend(60, total_bias=1000)
    assert len(list(nodes(b))) == 60
    assert offsets(b) == [(0, 50), (50, 50), (60, 50)]


def test_exact_multiple_of_page_size_needs_no_extra_request() -> None:
    b = MemoryBackend(100)
    assert len(list(nodes(b))) == 100
    assert len(b.calls) == 2


def test_no_duplicate_when_a_record_is_inserted_during_iteration() -> None:
    b = MemoryBackend(120)

    def insert_front(backend: MemoryBackend, call: int) -> None:
        if call == 2:  # between page 1 and page 2 a record sorting first appears
            backend.records.append(Rec(str(uuid.uuid4()), "a-new"))

    b.on_fetch = insert_front
    seen = [r.id for r in QuerySet(PROJECTS, b).sort("name")]
    assert len(seen) == len(set(seen)) == 120  # page 2 re-served n0049; it was dropped
    assert b.calls[0]["sort"] == "name,id"  # the id tie-break the Hub allows for projects


def test_items_without_id_are_never_deduplicated() -> None:
    b = MemoryBackend(0)
    b.records = [Rec(None, "same"), Rec(None, "same")]
    assert len(list(nodes(b))) == 2


# -- caching ----------------------------------------------------------------------------------


def test_list_len_bool_evaluate_once_and_cache() -> None:
    b = MemoryBackend(60)
    qs = nodes(b)
    assert len(list(qs)) == 60 and len(b.calls) == 2
    assert len(qs) == 60 and bool(qs) and qs.list()[0].name == "n0000"
    assert [r.name for r in qs][-1] == "n0059"
    assert qs.count() == 60 and qs.exists() and qs.first().name == "n0000" and qs.last().name == "n0059"
    assert qs[3].name == "n0003" and [r.name for r in qs[1:3]] == ["n0001", "n0002"]
    assert len(b.calls) == 2  # all of the above came from the cache

    fresh = nodes(b)
    assert bool(fresh) and len(b.calls) == 4  # bool() evaluates (and caches) too
    assert len(fresh) == 60 and len(b.calls) == 4
    assert len(fresh.all()) == 60 and len(b.calls) == 6  # all() is a fresh copy


def test_plain_iteration_streams_without_caching() -> None:
    b = MemoryBackend(10)
    qs = nodes(b)
    list(iter(qs)), list(iter(qs))
    assert len(b.calls) == 2


def test_repr_shows_the_request_and_sends_nothing() -> None:
    b = MemoryBackend(10)
    qs = nodes(b).filter(name__startswith="lab").sort("-created_at")
    assert repr(qs) == "<QuerySet GET /nodes?filter[name]=lab~&sort=-createdAt&page[limit]=50&page[offset]=0>"
    assert b.calls == []


def test_chaining_is_immutable() -> None:
    b = MemoryBackend(10)
    base = nodes(b)
    narrowed = base.filter(name="n0001")
    assert narrowed is not base and base.params() == [("sort", "createdAt"), ("page[limit]", "50"), ("page[offset]", "0")]
    assert ("filter[name]", "n0001") in narrowed.params()


# -- one-request helpers -------------------------------------------------------------------------


def test_count_exists_first_send_one_request_each() -> None:
    b = MemoryBackend(120)
    qs = nodes(b)
    assert qs.count() == 120
    assert qs.exists() is True
    assert qs.first().name == "n0000"
    assert offsets(b) == [(0, 1)] * 3
    assert nodes(MemoryBackend(0)).exists() is False
    assert nodes(MemoryBackend(0)).first() is None


def test_last_is_one_request_with_the_sort_reversed() -> None:
    b = MemoryBackend(120)
    assert QuerySet(PROJECTS, b).sort("name").last().name == "n0119"
    assert len(b.calls) == 1 and b.calls[0]["sort"] == "-name,-id" and b.calls[0]["page[limit]"] == "1"


def test_last_of_a_slice_counts_then_indexes() -> None:
    b = MemoryBackend(120)
    assert nodes(b)[10:20].last().name == "n0019"
    assert offsets(b) == [(10, 1), (19, 1)]
    b2 = MemoryBackend(120)
    assert nodes(b2)[110:200].last().name == "n0119"  # past the end: clipped by the count


def test_last_without_any_sort_counts_then_indexes() -> None:
    b = MemoryBackend(7, dialect=LEGACY)  # Hub 0.8 cannot sort nodes at all
    assert nodes(b).last().name == "n0006"
    assert offsets(b) == [(0, 1), (6, 1)] and "sort" not in b.calls[0]


def test_count_respects_offset_and_cap() -> None:
    b = MemoryBackend(120)
    assert nodes(b)[100:].count() == 20
    assert nodes(b)[10:30].count() == 20
    assert nodes(b).limit(5).count() == 5
    assert nodes(b)[200:].count() == 0
    assert len(b.calls) == 4


def test_get_returns_the_only_match_with_one_request() -> None:
    b = MemoryBackend(120)
    assert nodes(b).get(name="n0042").name == "n0042"
    assert len(b.calls) == 1 and b.calls[0]["page[limit]"] == "2"


def test_get_raises_not_found_and_multiple_objects_returned() -> None:
    b = MemoryBackend(3)
    with pytest.raises(NotFound):
        nodes(b).get(name="nope")
    b.records.append(Rec(str(uuid.uuid4()), "n0001"))
    with pytest.raises(MultipleObjectsReturned, match="2"):
        nodes(b).get(name="n0001")
    with pytest.raises(MultipleObjectsReturned):
        nodes(b).get()


# -- slicing, limit, page --------------------------------------------------------------------------


def test_slice_is_one_request_with_offset_and_limit() -> None:
    b = MemoryBackend(120)
    page = nodes(b)[60:70]
    assert b.calls == []  # slicing alone sends nothing
    assert [r.name for r in page] == [f"n{i:04d}" for i in range(60, 70)]
    assert offsets(b) == [(60, 10)]


def test_long_slice_pages_up_to_its_end() -> None:
    b = MemoryBackend(300)
    assert len(list(nodes(b)[100:250])) == 150
    assert offsets(b) == [(100, 50), (150, 50), (200, 50)]


def test_index_is_one_request() -> None:
    b = MemoryBackend(120)
    assert nodes(b)[5].name == "n0005" and offsets(b) == [(5, 1)]
    with pytest.raises(IndexError):
        nodes(b)[500]
    with pytest.raises(IndexError):
        nodes(b)[:3][3]  # outside the slice: no request
    assert len(b.calls) == 2
    with pytest.raises(ValueError):
        nodes(b)[-1]


def test_step_slice_evaluates_to_a_list() -> None:
    b = MemoryBackend(10)
    assert [r.name for r in nodes(b)[0:6:2]] == ["n0000", "n0002", "n0004"]


def test_limit_caps_the_total_not_the_page() -> None:
    b = MemoryBackend(120)
    assert len(list(nodes(b).limit(70))) == 70
    assert offsets(b) == [(0, 50), (50, 20)]
    assert list(nodes(b).limit(0)) == [] and len(b.calls) == 2


def test_page_sets_page_size_and_start() -> None:
    b = MemoryBackend(40)
    assert len(list(nodes(b).page(limit=10, offset=5))) == 35
    assert offsets(b) == [(5, 10), (15, 10), (25, 10), (35, 10)]


def test_page_limit_above_the_hub_maximum_warns_and_clamps() -> None:
    b = MemoryBackend(5)
    with pytest.warns(UserWarning, match="maximum of 50"):
        qs = nodes(b).page(limit=1000)
    assert ("page[limit]", "50") in qs.params()


def test_pages_yield_page_objects() -> None:
    b = MemoryBackend(120)
    pages = list(nodes(b).pages())
    assert [(p.offset, p.limit, p.total, len(p.items)) for p in pages] == [(0, 50, 120, 50), (50, 50, 120, 50),
                                                                         (100, 50, 120, 20)]
    assert pages[0].meta["total"] == 120 and isinstance(pages[0], Page)


def test_fetch_one_page() -> None:
    b = MemoryBackend(120)
    page = nodes(b).page(limit=10, offset=20).fetch_one_page()
    assert [r.name for r in page.items][0] == "n0020" and len(page) == 10 and page.total == 120
    assert offsets(b) == [(20, 10)]


def test_raw_params_are_sent_and_override_compiled_ones() -> None:
    b = MemoryBackend(3)
    list(QuerySet(PROJECTS, b).sort("name").raw({"sort": "-name", "x": "1"}))
    assert b.calls[0]["sort"] == "-name" and b.calls[0]["x"] == "1"


def test_find_kwargs_and_queryset_share_one_request() -> None:
    b = MemoryBackend(3)
    via_find = queryset_from_find_kwargs(QuerySet(PROJECTS, b), filter={"name": ("~", "lab")},
                                         page={"limit": 10, "offset": 0}, sort={"by": "created_at", "order": "descending"},
                                         fields="display_name")
    via_qs = QuerySet(PROJECTS, b).filter(name__startswith="lab").sort("-created_at") \
        .fields("+display_name").page(limit=10, offset=0)
    assert via_find.params() == via_qs.params()


def test_q_objects_compose() -> None:
    b = MemoryBackend(0)
    q = Q(name="a") | Q(name="b")
    assert (q & Q(hidden=True)) == (q & Q(hidden=True)) and (q & Q(hidden=True)) != (Q(hidden=True) & q)
    assert dict(nodes(b).filter(~~Q(name="a")).params())["filter[name]"] == "a"
    assert dict(nodes(b).filter(q).params())["filter"] == "or(eq(name,'a'),eq(name,'b'))"
    with pytest.raises(TypeError):
        Q("name")  # type: ignore[arg-type]


# -- the pagination planner --------------------------------------------------------------------------


def test_pager_hands_out_several_offsets_once_total_is_known() -> None:
    pager = Pager(page_size=50)
    assert pager.next_requests(4) == [PageRequest(0, 50)]  # total unknown: one at a time
    first = pager.next_request()
    page = pager.receive(first, [Rec(str(i), "x") for i in range(50)], {"total": 180})
    assert page is not None and len(page.items) == 50
    assert pager.next_requests(4) == [PageRequest(50, 50), PageRequest(100, 50), PageRequest(150, 50)]


def test_pager_rejects_a_speculative_page_whose_offset_no_longer_matches() -> None:
    pager = Pager(page_size=50)
    pager.receive(pager.next_request(), [Rec(str(i), "x") for i in range(50)], {"total": 180})
    second, third = pager.next_requests(2)
    pager.receive(second, [Rec(str(i), "x") for i in range(50, 90)], {"total": 180})  # a short page
    assert pager.receive(third, [Rec("z", "x")], {"total": 180}) is None  # stale: asked at 100
    assert pager.next_request() == PageRequest(90, 50)


def test_pager_with_cap() -> None:
    pager = Pager(start=10, page_size=50, cap=60)
    assert pager.next_requests(5) == [PageRequest(10, 50)]
    pager.receive(PageRequest(10, 50), [Rec(str(i), "x") for i in range(50)], {"total": 1000})
    assert pager.next_requests(5) == [PageRequest(60, 10)]
    pager.receive(PageRequest(60, 10), [Rec(str(i), "x") for i in range(50, 60)], {"total": 1000})
    assert pager.done and pager.next_request() is None


# -- async -------------------------------------------------------------------------------------------


def anodes(backend: MemoryBackend) -> AsyncQuerySet:
    return AsyncQuerySet(NODES, backend)


@pytest.mark.anyio
async def test_async_iteration_walks_every_page() -> None:
    b = MemoryBackend(120)
    names = [r.name async for r in anodes(b).filter(hidden=False)]
    assert len(names) == 120 and offsets(b) == [(0, 50), (50, 50), (100, 50)]


@pytest.mark.anyio
async def test_async_one_request_helpers_and_cache() -> None:
    b = MemoryBackend(120)
    qs = anodes(b)
    assert await qs.count() == 120
    assert await qs.exists() is True
    assert (await qs.first()).name == "n0000"
    assert (await AsyncQuerySet(PROJECTS, b).sort("name").last()).name == "n0119"
    assert (await qs.get(name="n0007")).name == "n0007"
    assert len(b.calls) == 5
    with pytest.raises(NotFound):
        await qs.get(name="missing")
    items = await qs.list()
    again = await qs.list()
    assert len(items) == len(again) == 120 and len(b.calls) == 6 + 3
    assert await qs.count() == 120 and len(b.calls) == 9


@pytest.mark.anyio
async def test_async_slice_pages_and_one_page() -> None:
    b = MemoryBackend(120)
    assert [r.name async for r in anodes(b)[60:70]] == [f"n{i:04d}" for i in range(60, 70)]
    assert offsets(b) == [(60, 10)]
    pages = [p async for p in anodes(b).pages()]
    assert [len(p.items) for p in pages] == [50, 50, 20]
    page = await anodes(b).page(limit=5).fetch_one_page()
    assert len(page.items) == 5 and page.total == 120


@pytest.mark.anyio
async def test_async_dedupes_like_sync() -> None:
    # pages 2 and 3 are fetched concurrently (page_concurrency 4); both are served one record
    # further back than planned, and the re-served records are dropped
    b = MemoryBackend(120)
    b.on_fetch = lambda backend, call: call == 2 and backend.records.append(Rec(str(uuid.uuid4()), "a-new"))
    seen = [r.id async for r in AsyncQuerySet(PROJECTS, b).sort("name")]
    assert len(seen) == len(set(seen)) == 120


def test_async_queryset_refuses_blocking_operations() -> None:
    qs = anodes(MemoryBackend(3))
    for op in (len, bool, iter, lambda q: q[0]):
        with pytest.raises(TypeError):
            op(qs)
    assert repr(qs).startswith("<AsyncQuerySet GET /nodes?")


# -- flame_hub.types ---------------------------------------------------------------------------------


def test_type_literals_match_the_catalog_enums() -> None:
    def enum_of(resource: str, key: str) -> set[str]:
        spec = get_resource(resource).era()
        fields = (spec.record_keys, spec.create_required, spec.create_optional, spec.update_fields)
        return {v for where in fields if key in where and where[key].enum for v in where[key].enum}

    assert set(get_args(hub_types.NodeType)) == enum_of("nodes", "type")
    assert set(get_args(hub_types.ProjectNodeApprovalStatus)) == enum_of("project-nodes", "approvalStatus")
    assert set(get_args(hub_types.AnalysisNodeApprovalStatus)) == enum_of("analysis-nodes", "approvalStatus")
    assert set(get_args(hub_types.ProcessStatus)) == enum_of("analysis-nodes", "executionStatus")
    assert {m.value for m in hub_types.AnalysisBucketType} == enum_of("analysis-buckets", "type")  # a str Enum
    assert set(get_args(hub_types.LogLevel)) == enum_of("analysis-logs", "level")
    assert set(get_args(hub_types.RegistryProjectType)) == enum_of("registry-projects", "type")
    analyses = get_resource("analyses").era().special_routes["command"].body["command"]["enum"]
    assert set(get_args(hub_types.AnalysisCommand)) == set(analyses)
    registry = get_resource("registries").era().special_routes["registry_command"].body["command"]["enum"]
    assert set(get_args(hub_types.RegistryCommand)) == set(registry)


def test_types_public_names() -> None:
    for name in ("PageParams", "SortParams", "FilterOperator", "FilterParams", "FindAllKwargs", "GetKwargs",
                 "IncludeParams", "FieldParams", "NodeType", "RegistryCommand", "RegistryProjectType",
                 "ProjectNodeApprovalStatus", "AnalysisCommand", "AnalysisNodeApprovalStatus",
                 "AnalysisBucketType", "LogLevel", "ProcessStatus", "UploadFile", "UuidIdentifiable"):
        assert hasattr(hub_types, name), name
    assert hub_types.FilterOperator.like == "~" and hub_types.FilterOperator("<=") is hub_types.FilterOperator.le
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        page: hub_types.PageParams = {"limit": 10}
        assert page["limit"] == 10
