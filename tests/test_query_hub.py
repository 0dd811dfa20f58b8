"""QuerySets against the fake Hub: request counts read from ``hub.requests``, and every compiled
chain of the snapshot suite accepted by the (fake) Hub's query engine."""

from __future__ import annotations

import pytest

import flame_hub
from flame_hub.dialects import CURRENT
from flame_hub.errors import MultipleObjectsReturned, NotFound
from flame_hub.query import AsyncQuerySet, Q, QuerySet

from test_query_compile import CHAINS  # tests/ is on sys.path (rootdir-relative imports)


def list_requests(hub, path: str = "/core/nodes") -> list:
    return [r for r in hub.requests if r.method == "GET" and r.path == path]


@pytest.fixture
def hub_with_nodes(fake_hub):
    fake_hub.seed("nodes", 120, hidden=False)
    fake_hub.clear_requests()
    return fake_hub


def test_iterating_120_nodes_takes_exactly_3_list_requests(hub_with_nodes, core_client) -> None:
    names = [n.name for n in core_client.nodes]
    assert len(names) == len(set(names)) == 120
    reqs = list_requests(hub_with_nodes)
    assert len(reqs) == 3
    assert [(r.query["page[offset]"], r.query["page[limit]"]) for r in reqs] == [("0", "50"), ("50", "50"),
                                                                              ("100", "50")]


def test_count_is_one_request(hub_with_nodes, core_client) -> None:
    assert core_client.nodes.count() == 120
    reqs = list_requests(hub_with_nodes)
    assert len(reqs) == 1 and reqs[0].query["page[limit]"] == "1"
    assert core_client.nodes.filter(name="node-7").count() == 1


def test_filter_and_sort_are_still_present_on_page_3(hub_with_nodes, core_client) -> None:
    qs = core_client.nodes.filter(name__startswith="node-", hidden=False).sort("-created_at")
    got = [n.name for n in qs]
    assert got == [f"node-{i}" for i in reversed(range(120))]  # seeded with increasing createdAt
    third = list_requests(hub_with_nodes)[2].query
    assert third["filter[name]"] == "node-~" and third["filter[hidden]"] == "false"
    assert third["sort"] == "-createdAt" and third["page[offset]"] == "100"


def test_a_record_created_during_iteration_is_not_yielded_twice(hub_with_nodes, core_client) -> None:
    seen = []
    for i, node in enumerate(core_client.nodes.sort("name")):
        seen.append(node.id)
        if i == 10:  # sorts before every seeded name: page 2 re-serves page 1's last record
            core_client.create_node(name="aaa-created-while-iterating")
    assert len(seen) == len(set(seen)) == 120
    assert len(list_requests(hub_with_nodes)) == 3


def test_slice_60_70_is_one_request(hub_with_nodes, core_client) -> None:
    window = list(core_client.nodes.sort("name")[60:70])
    reqs = list_requests(hub_with_nodes)
    assert len(reqs) == 1 and reqs[0].query["page[offset]"] == "60" and reqs[0].query["page[limit]"] == "10"
    everything = sorted(f"node-{i}" for i in range(120))
    assert [n.name for n in window] == everything[60:70]


def test_one_request_helpers_on_the_hub(hub_with_nodes, core_client) -> None:
    nodes = core_client.nodes.sort("name")
    assert nodes.first().name == "node-0" and nodes.last().name == "node-99"
    assert nodes.exists() and not nodes.filter(name="missing").exists()
    assert core_client.nodes.get(name="node-5").name == "node-5"
    with pytest.raises(NotFound):
        core_client.nodes.get(name="missing")
    with pytest.raises(MultipleObjectsReturned):
        core_client.nodes.get(name__startswith="node-1")
    assert len(list_requests(hub_with_nodes)) == 7


def test_expression_filters_are_understood(hub_with_nodes, core_client) -> None:
    either = core_client.nodes.filter(Q(name="node-1") | Q(name="node,2") | Q(name="node-2"))
    assert sorted(n.name for n in either) == ["node-1", "node-2"]
    assert "filter" in list_requests(hub_with_nodes)[0].query
    ranged = core_client.nodes.filter(name__range=("node-10", "node-13"))
    assert sorted(n.name for n in ranged) == ["node-10", "node-100", "node-101", "node-102", "node-103",
                                              "node-104", "node-105", "node-106", "node-107", "node-108",
                                              "node-109", "node-11", "node-110", "node-111", "node-112",
                                              "node-113", "node-114", "node-115", "node-116", "node-117",
                                              "node-118", "node-119", "node-12", "node-13"]
    assert core_client.nodes.exclude(name__startswith="node-1").count() == 120 - 1 - 10 - 20


def test_relation_filter_includes_the_relation(fake_hub, auth_client) -> None:
    admins = list(auth_client.users.filter(realm__name="master", name="admin"))
    assert [u.name for u in admins] == ["admin"]
    req = list_requests(fake_hub, "/auth/users")[0].query
    assert req["filter[realm.name]"] == "master" and req["include"] == "realm"
    assert not auth_client.users.filter(realm__name="no-such-realm").exists()


def test_find_helper_and_queryset_send_the_same_request(hub_with_nodes, core_client) -> None:
    found = core_client.find_nodes(filter={"name": ("~", "node-1")}, page={"limit": 5, "offset": 0},
                                   sort={"by": "name"}, include=[])
    via_qs = list(core_client.nodes.filter(name__startswith="node-1").sort("name")[:5])
    assert [n.id for n in found] == [n.id for n in via_qs]
    first, second = list_requests(hub_with_nodes)
    assert sorted(first.params) == sorted(second.params)


@pytest.mark.anyio
async def test_async_iteration_and_count(hub_with_nodes, hub_env, password_auth) -> None:
    async with flame_hub.AsyncCoreClient(base_url=hub_env.core_url, auth=password_auth) as core:
        assert isinstance(core.nodes, AsyncQuerySet)
        names = [n.name async for n in core.nodes.filter(hidden=False)]
        assert len(names) == len(set(names)) == 120
        assert await core.nodes.count() == 120
        assert [n.name async for n in core.nodes.sort("name")[60:70]] == sorted(f"node-{i}" for i in range(120))[60:70]
    reqs = list_requests(hub_with_nodes)
    assert len(reqs) == 3 + 1 + 1


# -- every valid compiled chain is accepted by the Hub's query engine ------------------------------

VALID = [(name, chain) for name, dialect, chain in CHAINS if dialect is CURRENT and not name.startswith("err-")]


def test_every_compiled_chain_is_accepted_by_the_hub(fake_hub, core_client, auth_client, storage_client) -> None:
    """One test over all chains (one Hub reset, not one per chain): each is sent as compiled and
    answered 200 — the (fake) Hub's query engine parses every form the compiler produces."""
    clients = {"core": core_client, "auth": auth_client, "storage": storage_client}
    failures = []
    for name, chain in VALID:
        q = chain()
        bound = QuerySet(q.resource, clients[q.resource.service], state=q.state)
        try:
            page = bound.fetch_one_page()  # a 400 would raise BadRequest
        except flame_hub.HubAPIError as exc:
            failures.append(f"{name}: {exc}")
            continue
        sent = fake_hub.requests[-1]
        assert sent.path.endswith(q.path) and sorted(sent.params) == sorted(bound.params()), name
        assert page.total is not None and page.total >= len(page.items), name
    assert not failures, "\n".join(failures)
    assert len(VALID) >= 60
    with pytest.raises(flame_hub.HubAPIError):  # the check can fail: the Hub refuses unknown keys
        core_client.nodes.raw({"filter": "eq(createdAt,'x')"}).fetch_one_page()
