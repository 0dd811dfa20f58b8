"""The async clients on the fake Hub: the same helpers as the sync ones, awaited."""

from __future__ import annotations

import uuid

import anyio
import pytest

import flame_hub
from flame_hub import models as m

pytestmark = pytest.mark.anyio


@pytest.fixture
def clients(hub_env, password_auth):
    return (
        flame_hub.AsyncAuthClient(base_url=hub_env.auth_url, auth=password_auth),
        flame_hub.AsyncCoreClient(base_url=hub_env.core_url, auth=password_auth),
        flame_hub.AsyncStorageClient(base_url=hub_env.storage_url, auth=password_auth),
    )


async def test_async_node_lifecycle(clients):
    auth, core, _storage = clients
    async with auth, core:
        (master,) = await auth.find_realms(filter={"name": "master"})
        node = await core.create_node(f"async-{uuid.uuid4().hex[:12]}", realm_id=master)
        assert isinstance(node, m.Node) and node.realm_id == master.id
        assert (await core.update_node(node, hidden=True)).hidden is True
        assert (await core.get_node(node.id)).hidden is True
        assert node.id in {n.id async for n in core.nodes.filter(hidden=True)}
        assert await core.nodes.filter(name=node.name).count() == 1
        await core.delete_node(node)
        assert await core.get_node(node.id) is None
        with pytest.raises(ValueError):
            await core.get_node("not-a-uuid")


async def test_async_requests_run_concurrently(clients):
    _auth, core, _storage = clients
    async with core:
        names = [f"conc{i}-{uuid.uuid4().hex[:10]}" for i in range(8)]
        created: list = [None] * len(names)

        async def make(i: int) -> None:
            created[i] = await core.create_node(names[i])

        async with anyio.create_task_group() as tg:
            for i in range(len(names)):
                tg.start_soon(make, i)
        assert sorted(n.name for n in created) == sorted(names)
        for node in created:
            await core.delete_node(node)


async def test_async_storage_upload_stream_download(clients, tmp_path):
    _auth, _core, storage = clients
    async with storage:
        bucket = await storage.create_bucket(f"async{uuid.uuid4().hex[:10]}")
        (stored,) = await storage.upload_to_bucket(bucket, ("a.txt", b"abc" * 5000))
        chunks = [c async for c in storage.stream_bucket_file(stored, chunk_size=1024)]
        assert b"".join(chunks) == b"abc" * 5000 and len(chunks) > 1
        tar = b"".join([c async for c in storage.stream_bucket_tarball(bucket)])
        assert b"abc" in tar
        seen: list[int] = []
        path = await storage.download_bucket_file(stored, tmp_path / "a.txt",
                                                  progress=lambda done, total: seen.append(done))
        assert path.read_bytes() == b"abc" * 5000 and seen[-1] == 15000
        with pytest.raises(flame_hub.NotFound):
            async for _ in storage.stream_bucket_file(bucket.id):  # a bucket id is no file id
                pass
        await storage.delete_bucket(bucket, force=True)  # 0.8.5 deletes only empty buckets (legacy additions 320)
        assert await storage.get_bucket(bucket) is None
