"""Hub eras from the client's side: the dialect table, version detection (once per client, lazy,
thread- and task-safe, I/O-free until evaluation), ``hub_version=``/``dialect=``, storage and
authup detection, queries an old Hub cannot express, robots and ``RobotAuth`` on both fakes.

Every test builds its own ``FakeHub`` of the era it needs and talks to it in-process
(``hub.transport()``), so that ``hub.requests`` shows exactly what the client sent.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest

import flame_hub
from flame_hub.auth import PasswordAuth, RobotAuth
from flame_hub.dialects import (AUTHUP_BARE, CURRENT, DIALECTS, LEGACY, TRANSITIONAL,
                                dialect_for_authup_version, dialect_for_version)
from flame_hub.errors import BadRequest, ServerError
from flame_hub.resources import get_resource
from flame_hub.testing import FakeHub

ERAS = ("0.14.0", "0.8.5")
EXPECTED = {"0.14.0": CURRENT, "0.8.5": LEGACY}


# ---------------------------------------------------------------------------- helpers
def client(hub: FakeHub, kind: str = "CoreClient", *, asynchronous: bool = False, **kwargs: Any) -> Any:
    """A client of the fake logged in as admin, in-process; ``kwargs`` go to the client."""
    cls = getattr(flame_hub, ("Async" if asynchronous else "") + kind)
    token_client = {"async_client": httpx.AsyncClient(transport=hub.transport())} if asynchronous \
        else {"client": httpx.Client(transport=hub.transport())}
    auth = PasswordAuth("admin", "start123", base_url=hub.auth_url, **token_client)
    base = {"CoreClient": hub.core_url, "StorageClient": hub.storage_url, "AuthClient": hub.auth_url}[kind]
    return cls(base_url=base, auth=auth, transport=hub.transport(), **kwargs)


def roots(hub: FakeHub) -> list[str]:
    """The detection requests the hub received (``GET /<service>/``)."""
    return [r.path for r in hub.requests if r.method == "GET" and r.path.count("/") == 2 and r.path.endswith("/")]


def lists(hub: FakeHub, path: str = "/core/nodes") -> list[Any]:
    return [r for r in hub.requests if r.method == "GET" and r.path == path]


# ---------------------------------------------------------------------------- the dialect table
@pytest.mark.parametrize("version, dialect", [
    ("1.0.0-beta.24", LEGACY), ("1.0.0-beta.53", LEGACY), ("0.45.0", LEGACY),
    ("1.0.0-beta.54", AUTHUP_BARE), ("1.0.0-beta.56", AUTHUP_BARE),
    ("1.0.0-beta.57", CURRENT), ("1.0.0-beta.62", CURRENT), ("1.0.0", CURRENT), ("v1.2.3", CURRENT),
])
def test_authup_versions_map_to_dialects(version, dialect):
    assert dialect_for_authup_version(version) is dialect


@pytest.mark.parametrize("bad", ["latest", "", None, 14])
def test_versions_that_are_not_versions_are_refused(bad):
    with pytest.raises(ValueError):
        dialect_for_version(bad)
    with pytest.raises(ValueError):
        dialect_for_authup_version(bad)


def test_dialect_facts_differ_where_the_recordings_do():
    assert (CURRENT.list_schema, CURRENT.legacy_errors, CURRENT.robots) == (True, False, False)
    assert (LEGACY.list_schema, LEGACY.legacy_errors, LEGACY.robots) == (False, True, True)
    assert TRANSITIONAL.like_grammar == "v2" and not TRANSITIONAL.record_envelope
    assert AUTHUP_BARE.camel_case and not AUTHUP_BARE.record_envelope and not AUTHUP_BARE.robots
    assert set(DIALECTS.values()) == {CURRENT, TRANSITIONAL, LEGACY, AUTHUP_BARE}


# ---------------------------------------------------------------------------- construction
def test_hub_version_or_dialect_but_not_both():
    with pytest.raises(ValueError, match="not both"):
        flame_hub.CoreClient("http://hub.test/core/", dialect=LEGACY, hub_version="0.8.5")
    with pytest.raises(ValueError, match="not a Hub version"):
        flame_hub.CoreClient("http://hub.test/core/", hub_version="latest")
    with pytest.raises(ValueError, match="Dialect"):
        flame_hub.CoreClient("http://hub.test/core/", dialect="0.8")
    core = flame_hub.CoreClient("http://hub.test/core/", hub_version="0.8.5")
    assert core.dialect is LEGACY and core.dialect_known and core.hub_version == "0.8.5"
    fresh = flame_hub.CoreClient("http://hub.test/core/")
    assert fresh.dialect is CURRENT and not fresh.dialect_known and fresh.hub_version is None
    with pytest.raises(ValueError):
        fresh.dialect = "legacy"
    fresh.dialect = LEGACY
    assert fresh.dialect_known and fresh.dialect is LEGACY


# ---------------------------------------------------------------------------- detection
@pytest.mark.parametrize("era", ERAS)
def test_detection_is_lazy_once_and_before_compiling(era):
    hub = FakeHub(version=era)
    core = client(hub)
    qs = core.nodes.filter(name__startswith="lab")
    text = repr(qs)  # compiled with the provisional (current) dialect: no request at all
    assert "lab~" in text and hub.requests == []
    assert qs.count() == 0
    assert core.dialect is EXPECTED[era] and core.hub_version == era
    assert roots(hub) == ["/core/"]
    sent = lists(hub)[-1].query["filter[name]"]
    assert sent == {"0.14.0": "lab~", "0.8.5": "~lab"}[era]  # compiled after detection
    core.get_nodes()
    list(core.nodes)
    assert roots(hub) == ["/core/"]  # once per client
    assert {"0.14.0": "lab~", "0.8.5": "~lab"}[era] in repr(qs)  # now the Hub's own spelling


@pytest.mark.parametrize("era", ERAS)
def test_helpers_detect_before_their_first_request(era):
    hub = FakeHub(version=era)
    core = client(hub)
    node = core.create_node(name="era-node")
    assert [f"{r.method} {r.path}" for r in hub.requests][:1] == ["GET /core/"]
    assert core.get_node(node.id).name == "era-node"
    assert core.find_nodes(filter={"name": "era-node"})[0].id == node.id
    assert roots(hub) == ["/core/"]


def test_an_old_hub_refuses_what_it_cannot_express_after_detection():
    hub = FakeHub(version="0.8.5")
    core = client(hub)
    qs = core.nodes.filter(name__endswith="x")  # fine for the provisional current dialect
    with pytest.raises(ValueError, match="ends"):
        qs.count()
    assert roots(hub) == ["/core/"] and lists(hub) == []  # detected, then refused before sending
    with pytest.raises(ValueError):
        list(core.nodes.filter(flame_hub.query.Q(name="a") | flame_hub.query.Q(name="b")))
    assert lists(hub) == []


def test_hub_version_given_means_no_detection():
    hub = FakeHub(version="0.8.5")
    core = client(hub, hub_version="0.8.5")
    assert core.nodes.filter(name__startswith="lab").count() == 0
    assert roots(hub) == [] and lists(hub)[-1].query["filter[name]"] == "~lab"


def test_twenty_threads_share_one_detection():
    hub = FakeHub(version="0.8.5")
    core = client(hub)
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            core.get_nodes()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and roots(hub) == ["/core/"] and core.dialect is LEGACY


@pytest.mark.anyio
@pytest.mark.parametrize("era", ERAS)
async def test_async_detection_once_for_concurrent_tasks(era):
    hub = FakeHub(version=era)
    hub.latency = 0.01  # let the tasks pile up on the detection
    async with client(hub, asynchronous=True) as core:
        await asyncio.gather(*(core.get_nodes() for _ in range(20)))
        assert roots(hub) == ["/core/"] and core.dialect is EXPECTED[era]
        names = [n.name async for n in core.nodes.filter(name__startswith="x")]
        assert names == [] and lists(hub)[-1].query["filter[name]"] == {"0.14.0": "x~", "0.8.5": "~x"}[era]


@pytest.mark.anyio
async def test_async_queryset_detects_before_compiling():
    hub = FakeHub(version="0.8.5")
    async with client(hub, asynchronous=True) as core:
        assert await core.nodes.filter(name__startswith="lab").count() == 0
        assert roots(hub) == ["/core/"] and lists(hub)[-1].query["filter[name]"] == "~lab"


@pytest.mark.parametrize("era, expected", [("0.14.0", CURRENT), ("0.8.5", LEGACY)])
def test_storage_detection_uses_its_root_or_the_gateway_core(era, expected):
    hub = FakeHub(version=era)
    storage = client(hub, "StorageClient")
    storage.get_buckets()
    assert storage.dialect is expected and storage.hub_version == era
    # 0.8.5 storage reports no version (legacy 131): the core behind the same gateway is asked
    assert roots(hub) == {"0.14.0": ["/storage/"], "0.8.5": ["/storage/", "/core/"]}[era]


def test_storage_without_a_version_and_without_a_gateway_is_legacy():
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/":
            return httpx.Response(200, json={"timestamp": 1})
        return httpx.Response(200, json={"data": [], "meta": {"total": 0}})

    storage = flame_hub.StorageClient("http://storage.test/", transport=httpx.MockTransport(answer))
    assert storage.get_buckets() == []
    assert storage.dialect is LEGACY and storage.hub_version is None and seen == ["/", "/buckets"]


@pytest.mark.parametrize("era, dialect, version", [
    ("0.14.0", CURRENT, "1.0.0-beta.62"), ("0.8.5", LEGACY, "1.0.0-beta.24")])
def test_auth_detection_reads_authups_own_version(era, dialect, version):
    hub = FakeHub(version=era)
    auth = client(hub, "AuthClient")
    assert auth.get_realm_by_name("master").name == "master"
    assert auth.dialect is dialect and auth.hub_version == version
    assert roots(hub) == ["/auth/"]


def test_a_root_without_a_version_means_the_current_hub():
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/core/":
            return httpx.Response(404, text="no such route")
        return httpx.Response(200, json={"data": [], "meta": {"total": 0, "limit": 50, "offset": 0}})

    core = flame_hub.CoreClient("http://hub.test/core/", transport=httpx.MockTransport(answer))
    assert core.get_nodes() == [] and core.dialect is CURRENT and core.dialect_known


def test_a_failed_detection_raises_and_is_tried_again():
    hub = FakeHub(version="0.8.5")
    core = client(hub, max_retries=0)
    hub.fail_next("GET", "/core/", 503)
    with pytest.raises(ServerError):
        core.get_nodes()
    assert not core.dialect_known and lists(hub) == []
    core.get_nodes()
    assert core.dialect is LEGACY and roots(hub) == ["/core/", "/core/"]


def test_a_plain_queryset_resolves_the_dialect_when_it_runs():
    """The dialect is resolved when a query runs, not when it is built: a plain QuerySet (not
    from a manager) made before the client knew its Hub detects first, then compiles for the Hub
    it found — never mis-sent in the provisional dialect. (Before issue 13 it was refused.)"""
    from flame_hub.query import QuerySet

    hub = FakeHub(version="0.8.5")
    legacy = client(hub)
    qs = QuerySet(get_resource("nodes"), legacy)
    assert not legacy.dialect_known
    assert qs.count() == 0
    assert legacy.dialect is LEGACY and roots(hub) == ["/core/"]
    (sent,) = lists(hub)
    assert sent.params == QuerySet(get_resource("nodes"), legacy).page(limit=1).params()  # legacy spelling
    assert "createdAt" in repr(QuerySet(get_resource("nodes"), client(FakeHub())))  # what it would have sent
    assert "createdAt" not in repr(qs)
    current = client(FakeHub())
    assert QuerySet(get_resource("nodes"), current).count() == 0  # the provisional one was right


def test_managers_keep_the_queryset_names():
    core = flame_hub.CoreClient("http://hub.test/core/")
    assert type(core.nodes).__name__ == "QuerySet" and repr(core.nodes).startswith("<QuerySet GET /nodes")
    assert isinstance(core.nodes, flame_hub.query.QuerySet)
    assert type(flame_hub.AsyncCoreClient("http://hub.test/core/").nodes).__name__ == "AsyncQuerySet"


# ---------------------------------------------------------------------------- robots
def test_robot_auth_and_robot_helpers_on_the_old_hub():
    hub = FakeHub(version="0.8.5")
    auth = client(hub, "AuthClient")
    realm = auth.get_realm_by_name("master")
    robot = auth.create_robot(name="era-robot", realm_id=realm.id)
    secret = robot.secret
    assert isinstance(secret, str) and secret  # the plain secret, once (legacy 037)
    assert auth.get_robot(robot.id).name == "era-robot" and auth.get_robot(robot.id).secret is None
    assert auth.get_robot_by_name("era-robot").id == robot.id
    assert [r.id for r in auth.find_robots(filter={"name": "era-robot"})] == [robot.id]
    assert auth.update_robot(robot, display_name="Era Robot").display_name == "Era Robot"

    robot_auth = RobotAuth(robot.id, secret, base_url=hub.auth_url,
                           client=httpx.Client(transport=hub.transport()))
    core = flame_hub.CoreClient(base_url=hub.core_url, auth=robot_auth, transport=hub.transport())
    assert core.get_nodes() == []
    grants = [r.json for r in hub.requests if r.path == "/auth/token"]
    assert {"grant_type": "robot_credentials", "id": str(robot.id), "secret": secret} in grants
    core_calls = [r for r in hub.requests if r.path == "/core/nodes"]
    assert core_calls and core_calls[-1].headers["authorization"].startswith("Bearer ")

    auth.delete_robot(robot)
    assert auth.get_robot(robot.id) is None


def test_robot_auth_on_current_authup_names_client_auth():
    hub = FakeHub()
    robot_auth = RobotAuth("41762b1f-9767-4bcc-851e-d6ec66b6c10a", "secret", base_url=hub.auth_url,
                           client=httpx.Client(transport=hub.transport()))
    core = flame_hub.CoreClient(base_url=hub.core_url, auth=robot_auth, transport=hub.transport())
    with pytest.raises(BadRequest, match="ClientAuth"):
        core.get_nodes()
    auth = client(hub, "AuthClient")
    with pytest.raises(ValueError, match="robots"):
        auth.get_robot("41762b1f-9767-4bcc-851e-d6ec66b6c10a")  # no robots on current authup


def test_a_node_of_the_old_hub_has_a_robot_that_goes_with_it():
    hub = FakeHub(version="0.8.5")
    core, auth = client(hub), client(hub, "AuthClient")
    node = core.create_node(name="robot-node")
    assert node.robot_id is not None and auth.get_robot(node.robot_id) is not None
    core.delete_node(node)
    assert auth.get_robot(node.robot_id) is None


# ---------------------------------------------------------------------------- old-Hub semantics
def test_old_hub_filters_and_sorts_through_the_client():
    hub = FakeHub(version="0.8.5")
    core = client(hub)
    for name in ("lab-a", "lab-b", "Lab-Upper", "other"):
        core.create_node(name=name)
    # v1 LIKE is case-insensitive on the recorded MariaDB (legacy 067)
    assert sorted(n.name for n in core.nodes.filter(name__startswith="lab")) == ["Lab-Upper", "lab-a", "lab-b"]
    assert [n.name for n in core.nodes.filter(name__contains="her")] == ["other"]
    assert core.nodes.count() == 4 and core.nodes.exists()
    with pytest.raises(ValueError, match="sort"):
        core.nodes.sort("name").count()  # 0.8.5 never sorts nodes (legacy 084): refused
    projects = [core.create_project(name=f"p-{i}") for i in range(3)]
    newest = core.projects.sort("-created_at").first()
    assert newest.id == projects[-1].id


def test_ranges_on_one_field_are_refused_on_the_old_hub():
    core = client(FakeHub(version="0.8.5"), hub_version="0.8.5")
    with pytest.raises(ValueError, match="expression"):
        core.projects.filter(name__gte="a", name__lt="b").count()


@pytest.mark.parametrize("era", ERAS)
def test_password_auth_renews_expired_tokens_on_both_authups(era):
    hub = FakeHub(version=era)
    core = client(hub)
    core.get_nodes()
    hub.expire_tokens()
    assert core.get_nodes() == []
    grants = [r.json["grant_type"] for r in hub.requests if r.path == "/auth/token"]
    assert grants == ["password", "refresh_token"]  # one renewal, with the refresh token
