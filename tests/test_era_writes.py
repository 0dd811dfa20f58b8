"""Writes that need more than one request on Hub 0.8.5, with one call on both eras
(hub-spec-legacy/0.8.5 additions 318-322, 331-336): ``update_registry_project`` sends the keys
0.8.5 requires from the current record, and ``delete_bucket(force=True)`` empties the bucket
first (0.8.5 refuses to delete a bucket that holds files)."""

from __future__ import annotations

import httpx
import pytest

import flame_hub
from flame_hub.auth import PasswordAuth
from flame_hub.errors import Conflict, NotFound
from flame_hub.testing import FakeHub

ERAS = ("0.14.0", "0.8.5")


def clients(hub: FakeHub) -> tuple[flame_hub.CoreClient, flame_hub.StorageClient]:
    auth = PasswordAuth("admin", "start123", base_url=hub.auth_url, client=httpx.Client(transport=hub.transport()))
    return (flame_hub.CoreClient(base_url=hub.core_url, auth=auth, transport=hub.transport()),
            flame_hub.StorageClient(base_url=hub.storage_url, auth=auth, transport=hub.transport()))


def bodies(hub: FakeHub, method: str, prefix: str) -> list:
    return [r.json for r in hub.requests if r.method == method and r.path.startswith(prefix)]


@pytest.mark.parametrize("era", ERAS)
def test_update_registry_project_with_one_key_works_on_both_eras(era):
    hub = FakeHub(version=era)
    core, _ = clients(hub)
    registry = core.create_registry("rec-registry", "rec-harbor.example.invalid")
    project = core.create_registry_project("rec-registry-project", "default", registry, external_name="rec_ext_a")
    hub.clear_requests()
    updated = core.update_registry_project(project, external_name="rec_ext_b")
    assert updated.external_name == "rec_ext_b" and core.get_registry_project(project).external_name == "rec_ext_b"
    assert updated.name == "rec-registry-project" and str(updated.registry_id) == str(registry.id)
    path = f"/core/registry-projects/{project.id}"
    sent = [f"{r.method} {r.path}" for r in hub.requests if r.path == path]
    if era == "0.8.5":  # read-modify-write (333 refuses the partial body, 334 takes the full one)
        assert sent == [f"GET {path}", f"POST {path}", f"GET {path}"]
        assert bodies(hub, "POST", path) == [{"registry_id": str(registry.id), "name": "rec-registry-project",
                                               "type": "default", "external_name": "rec_ext_b"}]
    else:  # 0.14 takes a partial update as it is
        assert sent == [f"POST {path}", f"GET {path}"]
        assert bodies(hub, "POST", path) == [{"externalName": "rec_ext_b"}]


def test_update_registry_project_sends_given_required_keys_without_reading():
    hub = FakeHub(version="0.8.5")
    core, _ = clients(hub)
    registry = core.create_registry("rec-registry", "rec-harbor.example.invalid")
    project = core.create_registry_project("rec-registry-project", "default", registry, external_name="rec_ext_a")
    hub.clear_requests()
    core.update_registry_project(project, name="renamed", registry_id=registry, registry_project_type="aggregator")
    assert [r.method for r in hub.requests] == ["POST"]
    assert core.get_registry_project(project).type == "aggregator"


def test_the_legacy_fake_refuses_a_partial_registry_project_update():
    hub = FakeHub(version="0.8.5")
    core, _ = clients(hub)
    registry = core.create_registry("rec-registry", "rec-harbor.example.invalid")
    project = core.create_registry_project("rec-registry-project", "default", registry, external_name="rec_ext_a")
    resp = core._session.request("POST", f"registry-projects/{project.id}", json={"external_name": "x"},
                                 expected=(400,))
    assert resp.json()["message"] == "The attributes registry_id, name, type are invalid."  # 333


@pytest.mark.parametrize("era", ERAS)
def test_delete_bucket_force_empties_it_first(era):
    hub = FakeHub(version=era)
    _, storage = clients(hub)
    bucket = storage.create_bucket("rec-bucket-nonempty")
    stored = storage.upload_to_bucket(bucket, *[(f"f{i}.txt", b"x") for i in range(53)])
    storage.delete_bucket(bucket, force=True)
    assert storage.get_bucket(bucket) is None
    assert all(storage.get_bucket_file(f) is None for f in stored[:3])
    lists = [r for r in hub.requests if r.method == "GET" and r.path == "/storage/bucket-files"]
    assert len(lists) == 3  # 50 files, 3 files, then none


def test_delete_bucket_on_the_legacy_hub_says_the_bucket_is_not_empty():
    hub = FakeHub(version="0.8.5")
    _, storage = clients(hub)
    bucket = storage.create_bucket("rec-bucket-nonempty")
    (stored,) = storage.upload_to_bucket(bucket, ("keep.txt", b"keep me\n"))
    with pytest.raises(Conflict, match="force=True") as info:
        storage.delete_bucket(bucket)
    assert info.value.status_code == 500 and info.value.code == "BucketNotEmpty"  # 320
    assert storage.get_bucket(bucket) is not None and storage.get_bucket_file(stored) is not None  # 321, 322
    storage.delete_bucket_file(stored)
    storage.delete_bucket(bucket)  # 336
    with pytest.raises(NotFound):
        storage.delete_bucket(bucket)


def test_delete_bucket_other_500s_stay_server_errors():
    hub = FakeHub(version="0.8.5")
    _, storage = clients(hub)
    bucket = storage.create_bucket("rec-bucket")
    hub.fail_next("DELETE", f"/storage/buckets/{bucket.id}", status=500)
    with pytest.raises(flame_hub.errors.ServerError):
        storage.delete_bucket(bucket)
    with pytest.raises(ValueError, match="force"):
        storage.delete_bucket(bucket, force="yes")


@pytest.mark.anyio
async def test_async_delete_bucket_force():
    hub = FakeHub(version="0.8.5")
    auth = PasswordAuth("admin", "start123", base_url=hub.auth_url,
                        async_client=httpx.AsyncClient(transport=hub.transport()))
    async with flame_hub.AsyncStorageClient(base_url=hub.storage_url, auth=auth, transport=hub.transport()) as s:
        bucket = await s.create_bucket("rec-bucket")
        await s.upload_to_bucket(bucket, ("a.txt", b"a"))
        await s.delete_bucket(bucket, force=True)
        assert await s.get_bucket(bucket) is None


@pytest.fixture
def anyio_backend():
    return "asyncio"
