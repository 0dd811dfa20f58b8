"""``qs.delete()`` and ``qs.update(**changes)`` against the fake Hub, sync and async (one and four
calls at a time): the unfiltered refusal, the request count, changes checked before anything is
sent, a partial failure in the middle (``hub.fail_next``) reported id by id, and 404s."""

from __future__ import annotations

import anyio
import pytest

import flame_hub
from flame_hub.errors import InvalidArgument, ServerError
from flame_hub.query import BulkOperationError

MODES = ("sync", "async-1", "async-4")


def run(mode: str, hub_env, auth, action):
    """``action(client)`` on a fresh sync or async core client (awaited on the async one); the
    Hub version is known before, so only the operation's own requests are recorded."""
    if mode == "sync":
        with flame_hub.CoreClient(base_url=hub_env.core_url, auth=auth, hub_version=hub_env.version) as core:
            return action(core)

    async def main():
        async with flame_hub.AsyncCoreClient(base_url=hub_env.core_url, auth=auth, hub_version=hub_env.version,
                                             page_concurrency=int(mode.split("-")[1])) as core:
            return await action(core)

    return anyio.run(main)


def core_requests(hub) -> list:
    return [r for r in hub.requests if r.path.startswith("/core/")]


def methods(hub) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in core_requests(hub):
        out[r.method] = out.get(r.method, 0) + 1
    return out


def node_ids(hub, **match) -> list[str]:
    return [r["id"] for r in hub.records("nodes") if all(r[k] == v for k, v in match.items())]


def tmp_ids(hub) -> list[str]:
    return [r["id"] for r in hub.records("nodes") if r["name"].startswith("tmp-")]


@pytest.fixture
def nodes(fake_hub):
    """130 nodes named tmp-*, and 5 others that no bulk operation here may touch."""
    seeded = [r["id"] for r in fake_hub.seed("nodes", 130, name="tmp-{i:03}", hidden=False)]
    fake_hub.seed("nodes", 5, name="keep-{i}", hidden=False)
    fake_hub.clear_requests()
    return seeded


@pytest.mark.parametrize("mode", MODES)
def test_delete_resolves_the_ids_then_deletes_each(fake_hub, hub_env, password_auth, nodes, mode) -> None:
    count = run(mode, hub_env, password_auth, lambda c: c.nodes.filter(name__startswith="tmp-").delete())
    assert count == 130
    assert tmp_ids(fake_hub) == [] and len(fake_hub.records("nodes")) == 5
    assert methods(fake_hub) == {"GET": 3, "DELETE": 130}  # ceil(130/50) list pages, one DELETE each


@pytest.mark.parametrize("mode", MODES)
def test_update_resolves_the_ids_then_updates_each(fake_hub, hub_env, password_auth, nodes, mode) -> None:
    qs = lambda c: c.nodes.filter(name__startswith="tmp-", hidden=False)  # noqa: E731
    count = run(mode, hub_env, password_auth, lambda c: qs(c).update(hidden=True))
    assert count == 130
    assert node_ids(fake_hub, hidden=False) == [r["id"] for r in fake_hub.records("nodes")
                                                if r["name"].startswith("keep-")]
    assert methods(fake_hub) == {"GET": 3, "POST": 130}
    posts = [r for r in core_requests(fake_hub) if r.method == "POST"]
    assert {r.path.rsplit("/", 1)[1] for r in posts} == set(nodes)
    assert all(r.json == {"hidden": True} for r in posts)


@pytest.mark.parametrize("mode", MODES)
def test_an_unfiltered_queryset_is_refused_unless_explicit(fake_hub, hub_env, password_auth, nodes, mode) -> None:
    for action in (lambda c: c.nodes.delete(), lambda c: c.nodes.update(hidden=True),
                   lambda c: c.nodes.all().delete()):
        with pytest.raises(ValueError, match="unfiltered=True"):
            run(mode, hub_env, password_auth, action)
    assert core_requests(fake_hub) == []
    assert run(mode, hub_env, password_auth, lambda c: c.nodes.update(hidden=True, unfiltered=True)) == 135
    assert node_ids(fake_hub, hidden=False) == []
    assert run(mode, hub_env, password_auth, lambda c: c.nodes.delete(unfiltered=True)) == 135
    assert fake_hub.records("nodes") == []


@pytest.mark.parametrize("mode", MODES)
def test_a_slice_is_a_restriction(fake_hub, hub_env, password_auth, nodes, mode) -> None:
    assert run(mode, hub_env, password_auth, lambda c: c.nodes[:10].delete()) == 10
    assert len(fake_hub.records("nodes")) == 125
    assert methods(fake_hub) == {"GET": 1, "DELETE": 10}


@pytest.mark.parametrize("mode", MODES)
def test_bad_changes_are_refused_before_anything_is_sent(fake_hub, hub_env, password_auth, nodes, mode) -> None:
    qs = lambda c: c.nodes.filter(name__startswith="tmp-")  # noqa: E731
    with pytest.raises(InvalidArgument, match=r"update_node\(\): argument 'hidden' expects True or False"):
        run(mode, hub_env, password_auth, lambda c: qs(c).update(hidden="yes"))
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        run(mode, hub_env, password_auth, lambda c: qs(c).update(colour="red"))
    with pytest.raises(ValueError, match="at least one change"):
        run(mode, hub_env, password_auth, lambda c: qs(c).update())
    assert core_requests(fake_hub) == []


def ordered(hub, nodes: list[str]) -> list[str]:
    """The ids in the order the listing yields them (0.14: by createdAt; 0.8.5: the Hub's own
    order, by id)."""
    key = "createdAt" if hub.version == "0.14.0" else "id"
    return [r["id"] for r in sorted(hub.records("nodes"), key=lambda r: r[key]) if r["id"] in nodes]


def _fail_at(hub, nodes: list[str], method: str, index: int, status: int) -> str:
    """Make the call for the ``index``-th id (in the order the listing yields them) fail."""
    failing = ordered(hub, nodes)[index]
    hub.fail_next(method, f"/core/nodes/{failing}", status=status)
    return failing


@pytest.mark.parametrize("mode", MODES)
def test_delete_failing_in_the_middle_names_the_ids_done_and_not_done(
        fake_hub, hub_env, password_auth, nodes, mode) -> None:
    before = ordered(fake_hub, nodes)[:60]
    failing = _fail_at(fake_hub, nodes, "DELETE", 60, 500)  # a 500 is not retried
    with pytest.raises(BulkOperationError) as caught:
        run(mode, hub_env, password_auth, lambda c: c.nodes.filter(name__startswith="tmp-").delete())
    error = caught.value
    assert list(error.failed) == [failing] and isinstance(error.__cause__, ServerError)
    assert failing in error.not_done and failing in str(error)
    assert set(error.done).isdisjoint(error.not_done) and set(error.done) | set(error.not_done) == set(nodes)
    assert sorted(tmp_ids(fake_hub)) == sorted(error.not_done)  # exactly the ones reported not done
    deletes = [r for r in core_requests(fake_hub) if r.method == "DELETE"]
    assert len(deletes) == len(error.done) + 1  # nothing after the failure was started
    assert set(before) <= set(error.done)  # everything before the failing one was done
    if mode in ("sync", "async-1"):
        assert error.done == before and len(error.not_attempted) == 69
    else:  # calls started while the failing one was on its way finish; none starts after it
        assert len(error.done) >= 60
    assert f"stopped after {len(error.done)} of 130" in str(error)


@pytest.mark.parametrize("mode", MODES)
def test_update_failing_in_the_middle_is_not_retried(fake_hub, hub_env, password_auth, nodes, mode) -> None:
    failing = _fail_at(fake_hub, nodes, "POST", 20, 503)  # 503 would be retried on a GET
    with pytest.raises(BulkOperationError) as caught:
        run(mode, hub_env, password_auth, lambda c: c.nodes.filter(name__startswith="tmp-").update(hidden=True))
    error = caught.value
    assert list(error.failed) == [failing]
    posts = [r for r in core_requests(fake_hub) if r.method == "POST"]
    assert [r.path for r in posts].count(f"/core/nodes/{failing}") == 1
    assert len(posts) == len(error.done) + 1
    assert sorted(node_ids(fake_hub, hidden=True)) == sorted(error.done)
    assert set(error.not_done) == set(nodes) - set(error.done)


@pytest.mark.parametrize("mode", MODES)
def test_a_record_gone_before_its_turn_is_skipped(fake_hub, hub_env, password_auth, nodes, mode) -> None:
    gone = _fail_at(fake_hub, nodes, "DELETE", 5, 404)  # as if someone deleted it meanwhile
    assert run(mode, hub_env, password_auth, lambda c: c.nodes.filter(name__startswith="tmp-").delete()) == 129
    assert tmp_ids(fake_hub) == [gone]


def test_async_bulk_update_keeps_within_the_rate_limit(fake_hub, hub_env, password_auth) -> None:
    """Four updates at a time under a limit of 15 requests per second: the client's pacing
    holds them back, so no POST meets a 429 (it would fail: a POST is never retried)."""
    fake_hub.seed("nodes", 40, name="paced-{i}", hidden=False)
    fake_hub.rate_limit = "15/1"
    try:
        count = run("async-4", hub_env, password_auth,
                    lambda c: c.nodes.filter(name__startswith="paced-").update(hidden=True))
    finally:
        fake_hub.rate_limit = None
    assert count == 40 and node_ids(fake_hub, hidden=False) == []
    assert methods(fake_hub) == {"GET": 1, "POST": 40}
