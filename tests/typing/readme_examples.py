"""What a type checker infers for the README's examples (checked, never run).

``mypy --strict tests/typing`` (CI, ``.ci/run``) fails when an ``assert_type`` does not hold;
``tests/test_typing.py`` runs mypy on this file and compares every ``reveal_type`` with the type
named in its ``# revealed:`` comment.
"""

from __future__ import annotations

from typing_extensions import assert_type, reveal_type

import flame_hub
from flame_hub.models import Node, Realm
from flame_hub.query import AsyncQuerySet, QuerySet


def quick_start() -> None:
    with flame_hub.Hub("http://localhost:3000/", username="admin", password="start123") as hub:
        assert_type(hub, flame_hub.Hub)
        master = hub.auth.get_realm_by_name("master")
        reveal_type(master)  # revealed: flame_hub.models.Realm | None
        node = hub.core.create_node(name="my-first-node", realm_id=master)
        assert_type(node, Node)
        assert_type(hub.core.nodes.filter(name__startswith="my-").count(), int)
        hub.core.delete_node(node)


def queries(core: flame_hub.CoreClient) -> None:
    recent = core.nodes.filter(name__startswith="lab", hidden=False).sort("-created_at")
    reveal_type(recent)  # revealed: flame_hub.query._queryset.QuerySet[flame_hub.models.Node]
    for node in recent:
        reveal_type(node)  # revealed: flame_hub.models.Node
    reveal_type(recent.first())  # revealed: flame_hub.models.Node | None
    assert_type(recent.exclude(hidden=True).include("realm").fields("+email").first(), Node | None)
    assert_type(recent.count(), int)
    assert_type(recent.exists(), bool)
    assert_type(recent.list(), list[Node])
    assert_type(recent[3], Node)
    assert_type(recent[100:150], QuerySet[Node] | list[Node])
    assert_type(recent.page(limit=10).limit(20), QuerySet[Node])
    assert_type(core.nodes.get(name="my-node"), Node)
    assert_type(core.get_nodes(), list[Node])
    assert_type(core.get_node("00000000-0000-0000-0000-000000000000"), Node | None)
    assert_type(core.find_nodes(filter={"name": "my-node"}, page={"limit": 10, "offset": 0}), list[Node])


def clients() -> None:
    auth = flame_hub.auth.PasswordAuth(username="admin", password="start123",
                                       base_url="http://localhost:3000/auth/")
    with flame_hub.CoreClient(base_url="http://localhost:3000/core/", auth=auth) as core:
        reveal_type(core)  # revealed: flame_hub.clients.CoreClient
        assert_type(core.with_options(max_retries=0), flame_hub.CoreClient)
    realms = flame_hub.AuthClient(base_url="http://localhost:3000/auth/", auth=auth).realms
    assert_type(realms.filter(name="master").first(), Realm | None)


async def async_clients() -> None:
    async with flame_hub.AsyncCoreClient(base_url="http://localhost:3000/core/") as core:
        reveal_type(core)  # revealed: flame_hub.clients.AsyncCoreClient
        online = core.nodes.filter(online=True).concurrency(2)
        reveal_type(online)  # revealed: flame_hub.query._queryset.AsyncQuerySet[flame_hub.models.Node]
        async for node in online:
            assert_type(node, Node)
        assert_type(await online.first(), Node | None)
        assert_type(await online.count(), int)
        assert_type(online[0:10], AsyncQuerySet[Node])
