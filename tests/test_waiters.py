"""Waiters (``wait_for``, ``wait_for_records``), sync and async, against the fake Hub's state
progression (manual hooks and automatic mode), plus the sans-IO plan's backoff and deadline."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

import flame_hub
from flame_hub import models as m
from flame_hub.clients import _wait
from flame_hub.clients._plan import Call, Sleep, run_sync
from flame_hub.dialects import CURRENT
from flame_hub.testing import FakeHub


@pytest.fixture
def hub():
    with FakeHub() as running:
        yield running
    running.auto_progress(None)


def _auth(hub: FakeHub) -> flame_hub.auth.PasswordAuth:
    return flame_hub.auth.PasswordAuth(username="admin", password="start123", base_url=hub.auth_url)


@pytest.fixture
def core(hub):
    with flame_hub.CoreClient(base_url=hub.core_url, auth=_auth(hub)) as client:
        yield client


@pytest.fixture
def storage(hub):
    with flame_hub.StorageClient(base_url=hub.storage_url, auth=_auth(hub)) as client:
        yield client


def _name() -> str:
    return f"w-{uuid.uuid4().hex[:10]}"


def _locked_analysis(core, storage) -> m.Analysis:
    """An analysis through configurationLock (additions/226-252): registry, master image, a
    default and an aggregator node, an entrypoint."""
    core.create_registry(_name(), f"{_name()}.example.org", account_name="robot", account_secret="secret")
    project = core.create_project(name=_name(), master_image_id=core.get_master_images()[0].id)
    analysis = core.create_analysis(project)
    for kind in ("default", "aggregator"):
        node = core.create_node(name=_name(), node_type=kind)
        core.create_project_node(project, node)
        core.create_analysis_node(analysis, node)
    bucket = core.find_analysis_buckets(filter={"analysis_id": analysis.id, "type": "CODE"})[0]
    [stored] = storage.upload_to_bucket(bucket.bucket_id, ("main.py", b"print(1)\n", "text/x-python"))
    core.create_analysis_bucket_file("main.py", bucket_file_id=stored, bucket_id=bucket.bucket_id,
                                     analysis_bucket_id=bucket, is_entrypoint=True)
    core.send_analysis_command(analysis, "configurationLock")
    return analysis


def _requests_to(hub: FakeHub, path: str) -> int:
    return sum(1 for r in hub.requests if r.method == "GET" and r.path == path)


# ----------------------------------------------------------------------------- sync, end to end
def test_wait_for_a_build_the_fake_finishes_by_itself(hub, core, storage):
    analysis = _locked_analysis(core, storage)
    core.send_analysis_command(analysis, "buildStart")
    hub.auto_progress(0.02)
    built = core.wait_for(analysis, build_status="executed", timeout=10, interval=0.01)
    assert isinstance(built, m.Analysis) and built.build_status is m.ProcessStatus.EXECUTED
    assert built.build_progress == 100 and built.build_hash


def test_wait_for_distribution_and_every_run(hub, core, storage):
    analysis = _locked_analysis(core, storage)
    core.send_analysis_command(analysis, "buildStart")
    hub.progress(analysis, complete=True)
    core.send_analysis_command(analysis, "distributionStart")
    hub.auto_progress(0.01)
    core.wait_for(analysis, distribution_status="executed", timeout=10, interval=0.01)
    finished = core.wait_for(analysis, execution_status="executed", timeout=10, interval=0.01)
    assert finished.execution_progress == 100
    for link in core.find_analysis_nodes(filter={"analysis_id": analysis.id}):
        assert core.wait_for(link, execution_status="executed", timeout=1, interval=0.01).execution_progress == 100


def test_a_timeout_says_the_last_state_seen(hub, core, storage):
    analysis = _locked_analysis(core, storage)
    core.send_analysis_command(analysis, "buildStart")
    hub.progress(analysis)  # started, progress 0; nothing moves any more
    hub.clear_requests()
    started = time.monotonic()
    with pytest.raises(flame_hub.WaitTimeout) as caught:
        core.wait_for(analysis, build_status="executed", timeout=0.3, interval=0.05, max_interval=0.1)
    assert 0.3 <= time.monotonic() - started < 2
    error = caught.value
    assert isinstance(error, TimeoutError) and isinstance(error, flame_hub.HubError)
    assert str(error) == (f"analysis {analysis.id}: still build_status='started', build_progress=0 after 0.3 s; "
                          f"waited for build_status='executed'")
    assert error.last.build_status == "started" and error.expected == "build_status='executed'"
    assert 3 <= _requests_to(hub, f"/core/analyses/{analysis.id}") <= 7  # polled, with pauses


def test_a_failure_state_ends_the_wait_at_once(hub, core, storage):
    analysis = _locked_analysis(core, storage)
    core.send_analysis_command(analysis, "buildStart")
    hub.fail(analysis, "build")
    hub.clear_requests()
    with pytest.raises(flame_hub.WaitFailed, match=r"build_status is 'failed', which it does not leave by itself") as caught:
        core.wait_for(analysis, build_status="executed", timeout=60)
    assert caught.value.last.build_status == "failed"
    assert _requests_to(hub, f"/core/analyses/{analysis.id}") == 1
    # waiting for the failure itself is fine, and so is any of several values
    assert core.wait_for(analysis, build_status="failed", timeout=1).build_status == "failed"
    assert core.wait_for(analysis, build_status=("executed", "failed"), timeout=1).build_status == "failed"


def test_a_deleted_record_ends_the_wait(hub, core, storage):
    analysis = _locked_analysis(core, storage)
    core.delete_analysis(analysis)
    with pytest.raises(flame_hub.WaitFailed, match="no longer exists"):
        core.wait_for(analysis, build_status="executed", timeout=60)


def test_wait_for_node_approval_and_rejection():
    with FakeHub(skip_analysis_approval=False) as hub, \
            flame_hub.CoreClient(base_url=hub.core_url, auth=_auth(hub)) as core:
        project = core.create_project(name=_name())
        analysis = core.create_analysis(project)
        links = []
        for _ in range(2):
            node = core.create_node(name=_name(), node_type="default")
            core.create_project_node(project, node)
            links.append(core.create_analysis_node(analysis, node))
        assert all(link.approval_status is None for link in links)
        hub.fail(links[1], "approval")
        hub.auto_progress(0.01)
        approved = core.wait_for(links[0], approval_status="approved", timeout=10, interval=0.01)
        assert approved.approval_status == "approved"
        with pytest.raises(flame_hub.WaitFailed, match="approval_status is 'rejected'"):
            core.wait_for(links[1], approval_status="approved", timeout=10, interval=0.01)
        hub.auto_progress(None)


def test_wait_for_master_image_build_and_sync(hub, core):
    image = core.get_master_images()[0]
    core.build_master_image(image)
    hub.auto_progress(0.01)
    assert core.wait_for(image, build_status="executed", timeout=10, interval=0.01).build_progress == 100
    hub.auto_progress(None)
    core.delete_master_image(image)
    core.sync_master_images()
    hub.auto_progress(0.01)
    [back] = core.wait_for_records("master-images", virtual_path=image.virtual_path, timeout=10, interval=0.01)
    assert back.virtual_path == image.virtual_path and back.id != image.id


def test_wait_for_the_buckets_of_a_new_analysis(hub, core, storage):
    hub.auto_progress(0.05)  # storage's buckets arrive with the broker's next delivery
    analysis = core.create_analysis(core.create_project(name=_name()))
    buckets = core.wait_for_records("analysis-buckets", count=3, analysis_id=analysis.id, timeout=10, interval=0.01)
    assert sorted(b.type for b in buckets) == ["CODE", "RESULT", "TEMP"]
    code = next(b for b in buckets if b.type == "CODE")
    assert storage.wait_for_records("buckets", id=code.bucket_id, timeout=1)[0].id == code.bucket_id
    storage.upload_to_bucket(code.bucket_id, ("train.py", b"x = 1\n", "text/x-python"))
    [record] = core.wait_for_records("analysis-bucket-files", analysis_id=analysis.id, path="train.py",
                                     timeout=10, interval=0.01)
    assert record.root is False and record.analysis_bucket_id == code.id


def test_wait_for_records_timeout_counts_what_it_found(hub, core):
    analysis = core.create_analysis(core.create_project(name=_name()))
    with pytest.raises(flame_hub.WaitTimeout, match=r"^analysis-buckets: still 3 found after 0.1 s; "
                                                      r"waited for 4 record\(s\) matching analysis_id=") as caught:
        core.wait_for_records("analysis-buckets", count=4, analysis_id=analysis.id, timeout=0.1, interval=0.05)
    assert len(caught.value.last) == 3


# ----------------------------------------------------------------------------- async
@pytest.mark.anyio
async def test_async_waiters_share_the_plan(hub, core, storage):
    analysis = _locked_analysis(core, storage)
    core.send_analysis_command(analysis, "buildStart")
    async with flame_hub.AsyncCoreClient(base_url=hub.core_url, auth=_auth(hub)) as acore:
        with pytest.raises(flame_hub.WaitTimeout, match="build_status='starting'"):
            await acore.wait_for(analysis, build_status="executed", timeout=0.1, interval=0.02)
        hub.auto_progress(0.01)
        built = await acore.wait_for(analysis, build_status="executed", timeout=10, interval=0.01)
        assert built.build_status == "executed"
        buckets = await acore.wait_for_records("analysis-buckets", count=3, analysis_id=analysis.id, timeout=1)
        assert len(buckets) == 3
        hub.auto_progress(None)
        core.send_analysis_command(analysis, "distributionStart")
        hub.fail(analysis, "distribution")
        with pytest.raises(flame_hub.WaitFailed, match="distribution_status is 'failed'"):
            await acore.wait_for(analysis, distribution_status="executed", timeout=10)


# ----------------------------------------------------------------------------- arguments
def test_bad_arguments_raise_before_sending(hub, core, storage):
    analysis = core.create_analysis(core.create_project(name=_name()))
    hub.clear_requests()
    with pytest.raises(ValueError, match="has no field"):
        core.wait_for(analysis, build_staus="executed")
    with pytest.raises(ValueError, match="at least one field"):
        core.wait_for(analysis)
    with pytest.raises(TypeError, match="record read from the Hub"):
        core.wait_for(str(analysis.id), build_status="executed")
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        core.wait_for(analysis, build_status="executed", timeout=0)
    with pytest.raises(ValueError, match="storage service"):
        core.wait_for_records("buckets")
    with pytest.raises(ValueError, match="count must be"):
        core.wait_for_records("analysis-buckets", count=0)
    with pytest.raises(ValueError, match="cannot filter"):
        core.wait_for_records("analysis-buckets", nmae="x")
    with pytest.raises(TypeError, match="record read from the Hub"):
        storage.wait_for(analysis, build_status="executed")  # a core record on the storage client
    assert [r for r in hub.requests if r.path.startswith("/core/analys")] == []


# ----------------------------------------------------------------------------- the plan, sans IO
def _answer(record: dict) -> httpx.Response:
    return httpx.Response(200, json={"data": record, "meta": {}},
                          request=httpx.Request("GET", "http://hub/core/analyses/x"))


def test_the_plan_backs_off_and_keeps_its_deadline():
    client = flame_hub.CoreClient(base_url="http://hub/core/", dialect=CURRENT)
    ident = str(uuid.uuid4())
    analysis = m.Analysis.model_validate({"id": ident, "buildStatus": "starting"})
    now = [0.0]
    plan = _wait.wait_for(client, analysis, build_status="executed", timeout=6, interval=1,
                          max_interval=2, _clock=lambda: now[0])
    sleeps = []
    step = next(plan)
    with pytest.raises(flame_hub.WaitTimeout, match="still build_status='starting'") as caught:
        while True:
            if isinstance(step, Sleep):
                sleeps.append(step.seconds)
                now[0] += step.seconds
                step = plan.send(None)
            else:
                assert isinstance(step, Call) and step.path == f"analyses/{ident}"
                step = plan.send(_answer({"id": ident, "buildStatus": "starting"}))
    assert sleeps == [1, 1.5, 2, 1.5]  # grows by half, capped at 2, never past the deadline
    assert caught.value.last.id == uuid.UUID(ident)


def test_run_sync_sleeps_for_the_plan(monkeypatch):
    slept = []
    monkeypatch.setattr(time, "sleep", slept.append)

    def plan():
        got = yield Sleep(0.25)
        return got, "done"

    assert run_sync(plan(), session=None) == (None, "done") and slept == [0.25]
