"""Special operations on the fake Hub: analysis commands, credentials, master images, registry
commands, scoped logs, upload, streams, download, per-call auth."""

from __future__ import annotations

import io
import tarfile
import uuid

import pytest

from _jwt import jwt

import flame_hub
from flame_hub import models as m
from test_clients_crud import Factory, unique_name


@pytest.fixture
def factory(auth_client, core_client, storage_client):
    return Factory(auth_client, core_client, storage_client)


def _configured_analysis(f: Factory):
    """An analysis that configurationLock accepts (additions/226-252): a project with a master
    image, an approved aggregator and default node, and an entrypoint (a root file in the CODE
    bucket)."""
    core, storage = f.clients["core"], f.clients["storage"]
    image = core.get_master_images()[0]
    if not core.get_registries():  # distribution needs one, and nodes join it when created
        core.create_registry(unique_name(), f"{unique_name()}.example.org", account_name="robot",
                             account_secret="secret")
    project = f.make("projects", master_image_id=image.id)
    nodes = [f.make("nodes", node_type="aggregator"), f.make("nodes", node_type="default")]
    for node in nodes:
        core.create_project_node(project, node)
    analysis = core.create_analysis(project, name=unique_name())
    for node in nodes:
        link = core.create_analysis_node(analysis, node)
        core.update_analysis_node(link, approval_status="approved")
    bucket = f.code_bucket(analysis)
    [stored] = storage.upload_to_bucket(bucket.bucket_id, ("main.py", b"print('hi')\n", "text/x-python"))
    core.create_analysis_bucket_file("main.py", bucket_file_id=stored, bucket_id=bucket.bucket_id,
                                     analysis_bucket_id=bucket, is_entrypoint=True)
    return analysis


@pytest.mark.needs("worker")  # build and distribution progress
def test_analysis_commands_walk_the_state_machine(core_client, factory, fake_hub):
    analysis = _configured_analysis(factory)
    with pytest.raises(flame_hub.BadRequest, match="not locked"):
        core_client.send_analysis_command(analysis, "buildStart")
    locked = core_client.send_analysis_command(analysis.id, m.ENUMS["AnalysisCommand"].CONFIGURATION_LOCK)
    assert isinstance(locked, m.Analysis) and locked.configuration_locked is True
    assert core_client.send_analysis_command(analysis, "buildStart").build_status == "starting"
    assert core_client.send_analysis_command(analysis, "buildCheck").build_status == "starting"
    fake_hub.progress(analysis, complete=True)  # the worker builds it
    built = core_client.get_analysis(analysis)
    assert built.build_status is m.ProcessStatus.EXECUTED and built.build_progress == 100
    assert core_client.send_analysis_command(analysis, "distributionStart").distribution_status == "starting"
    fake_hub.progress(analysis, complete=True)  # distributed, and run by the nodes
    assert core_client.send_analysis_command(analysis, "distributionCheck").distribution_status == "executed"
    assert core_client.get_analysis(analysis).execution_status == "executed"
    assert core_client.send_analysis_command(analysis, "storageCheck").id == analysis.id
    assert core_client.get_analysis(analysis).configuration_locked is True


def test_analysis_command_refused_before_sending(core_client, factory, fake_hub):
    analysis = core_client.create_analysis(factory.make("projects"))
    fake_hub.clear_requests()
    with pytest.raises(ValueError, match="allowed"):
        core_client.send_analysis_command(analysis, "nonsense")
    with pytest.raises(flame_hub.BadRequest, match="default node"):
        core_client.send_analysis_command(analysis, "configurationLock")
    assert [r.path for r in fake_hub.requests if r.method == "POST"] == [f"/core/analyses/{analysis.id}/command"]


@pytest.mark.parametrize("owner", ["nodes", "analyses"])
def test_client_credentials(core_client, factory, owner):
    record = factory.make(owner)
    singular = "node" if owner == "nodes" else "analysis"
    get = getattr(core_client, f"get_{singular}_client_credentials")
    update = getattr(core_client, f"update_{singular}_client_credentials")
    creds = get(record)
    assert isinstance(creds, m.ClientCredentials) and creds.id == record.client_id and creds.secret
    assert update(record, secret="my-new-secret").secret == "my-new-secret"
    assert get(record.id).secret == "my-new-secret"
    regenerated = update(record, secret=None)  # None: the Hub makes a new random secret
    assert regenerated.secret and regenerated.secret != "my-new-secret"


def test_node_registry_credentials(fake_hub, core_client, factory):
    plain = factory.make("nodes")
    with pytest.raises(flame_hub.BadRequest, match="registry project"):
        core_client.get_node_registry_credentials(plain)
    registry = core_client.create_registry(unique_name(), f"{unique_name()}.example.org",
                                           account_name="robot", account_secret="pw3")
    node = factory.make("nodes")  # with exactly one registry the Hub provisions a project
    creds = core_client.get_node_registry_credentials(node)
    assert isinstance(creds, m.NodeRegistryCredentials)
    assert creds.host == registry.host and creds.external_name == core_client.get_node(node).external_name


@pytest.mark.needs("worker")  # setup/cleanup are the worker's jobs (with Harbor)
def test_registry_commands(core_client, factory):
    registry = factory.make("registries")
    assert core_client.send_registry_command(registry, "setup") is None
    projects = core_client.find_registry_projects(filter={"registry_id": registry.id})
    assert {p.type for p in projects} == {"incoming", "outgoing", "masterImages"}
    core_client.send_registry_command(registry.id, m.RegistryCommand.CLEANUP)
    assert core_client.find_registry_projects(filter={"registry_id": registry.id}) == []
    with pytest.raises(ValueError):
        core_client.send_registry_command(registry, "reboot")
    with pytest.raises(flame_hub.NotFound):
        core_client.send_registry_command(uuid.uuid4(), "setup")


@pytest.mark.needs("worker", "internet")  # the sync reads GitHub; the worker builds
def test_master_image_sync_and_build(core_client, fake_hub):
    assert core_client.sync_master_images() is None
    image = core_client.get_master_images()[0]
    assert isinstance(image, m.MasterImage)
    assert core_client.get_master_image(image.id).id == image.id
    assert core_client.get_master_image_group(core_client.get_master_image_groups()[0]) is not None
    assert core_client.build_master_image(image) is None
    assert core_client.get_master_image(image).build_status == "starting"
    fake_hub.progress(image, complete=True)  # the worker builds it
    assert core_client.get_master_image(image).build_status == "executed"
    with pytest.raises(flame_hub.NotFound):
        core_client.build_master_image(uuid.uuid4())


@pytest.mark.needs("telemetry")  # 0.14 keeps node logs there (additions 263-265)
def test_analysis_node_logs_create_find_and_scoped_delete(core_client, factory):
    analysis, node = factory.analysis_node()
    core_client.create_analysis_node(analysis, node)
    other_analysis, other_node = factory.analysis_node()
    log = core_client.create_analysis_node_log(analysis, node, "info", "first")
    assert isinstance(log, m.Log) and log.message == "first" and log.level is m.LogLevel.INFO
    core_client.create_analysis_node_log(analysis.id, node.id, m.LogLevel.ERROR, "second", status="failed")
    core_client.create_analysis_node_log(other_analysis, other_node, "info", "keep me")
    scope = {"analysis_id": analysis.id, "node_id": node.id}
    logs = core_client.find_analysis_node_logs(filter=scope)
    assert sorted(entry.message for entry in logs) == ["first", "second"]
    assert [e.message for e in core_client.find_analysis_node_logs(filter={**scope, "level": "error"})] == ["second"]
    with pytest.raises((ValueError, flame_hub.BadRequest)):
        core_client.find_analysis_node_logs(filter={"analysis_id": analysis.id})  # node_id missing
    core_client.delete_analysis_node_logs(analysis, node)
    assert core_client.find_analysis_node_logs(filter=scope) == []
    kept = core_client.find_analysis_node_logs(filter={"analysis_id": other_analysis.id, "node_id": other_node.id})
    assert [e.message for e in kept] == ["keep me"]  # the delete stayed in its scope


def test_analysis_logs_find_and_scoped_delete(core_client, factory, fake_hub):
    analysis = core_client.create_analysis(factory.make("projects"))
    assert core_client.find_analysis_logs(filter={"analysis_id": analysis.id}) == []
    fake_hub.clear_requests()
    core_client.delete_analysis_logs(analysis)
    (request,) = fake_hub.requests
    assert request.method == "DELETE" and request.params == [("filter[analysisId]", str(analysis.id))]


def test_upload_from_paths_bytes_and_file_objects(storage_client, factory, tmp_path):
    bucket = factory.make("buckets")
    csv = tmp_path / "table.csv"
    csv.write_text("a,b\n1,2\n")
    blob = tmp_path / "model.bin"
    blob.write_bytes(bytes(range(256)) * 64)
    with blob.open("rb") as handle:
        files = storage_client.upload_to_bucket(
            bucket, csv, handle, ("notes.txt", "hello"),
            {"file_name": "custom.dat", "content": b"\x00\x01", "content_type": "application/x-custom"})
    assert [f.name for f in files] == ["table.csv", "model.bin", "notes.txt", "custom.dat"]
    assert all(isinstance(f, m.BucketFile) and f.bucket_id == bucket.id for f in files)
    by_name = {f.name: f for f in files}
    assert b"".join(storage_client.stream_bucket_file(by_name["model.bin"])) == blob.read_bytes()
    assert b"".join(storage_client.stream_bucket_file(by_name["notes.txt"].id, chunk_size=2)) == b"hello"
    # the Hub does not store a part's content type: a stream is typed by the file name's
    # extension, else application/octet-stream (additions 271-274)
    http = storage_client.session.client
    for name, expected in (("table.csv", "text/csv; charset=utf-8"), ("custom.dat", "application/octet-stream"),
                           ("notes.txt", "text/plain; charset=utf-8")):
        answer = http.get(f"bucket-files/{by_name[name].id}/stream")
        assert answer.headers["content-type"] == expected
    listed = storage_client.find_bucket_files(filter={"bucket_id": bucket.id})
    assert {f.name for f in listed} == set(by_name)


def test_bucket_tarball_and_download(storage_client, factory, tmp_path):
    bucket = factory.make("buckets")
    (stored,) = storage_client.upload_to_bucket(bucket, ("data.txt", b"0123456789" * 1000))
    tar_bytes = b"".join(storage_client.stream_bucket_tarball(bucket))
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        names = tar.getnames()
        assert any(n.endswith("data.txt") for n in names)
        member = next(n for n in names if n.endswith("data.txt"))
        assert tar.extractfile(member).read() == b"0123456789" * 1000
    progress = []
    target = storage_client.download_bucket_file(stored, tmp_path / "copy.txt", chunk_size=4096,
                                                 progress=lambda done, total: progress.append(done))
    assert target.read_bytes() == b"0123456789" * 1000
    assert progress[-1] == 10000 and progress == sorted(progress) and len(progress) >= 3


def test_streams_of_missing_records_raise(storage_client):
    with pytest.raises(flame_hub.NotFound):
        storage_client.stream_bucket_file(uuid.uuid4())
    with pytest.raises(flame_hub.NotFound):
        list(storage_client.stream_bucket_tarball(uuid.uuid4()))
    with pytest.raises(ValueError):
        storage_client.stream_bucket_file("not-an-id")


def test_per_call_auth(core_client, factory):
    node = factory.make("nodes")
    with pytest.raises(flame_hub.Unauthorized):
        core_client.get_node(node, auth=None)
    with pytest.raises(ValueError, match="not a well-formed JWT"):  # refused before sending
        core_client.get_nodes(auth="not-a-valid-token")
    with pytest.raises(flame_hub.Unauthorized):  # a JWT the Hub did not issue: 500 on 0.14 (279)
        core_client.get_nodes(auth=jwt())
    assert core_client.get_node(node).id == node.id  # the client's own auth is untouched


def test_fields_and_meta_keywords(core_client, factory):
    # host and name are unique, the secret needs 3+ characters (additions 215-218)
    registry = core_client.create_registry(unique_name(), f"{unique_name()}.example.org",
                                           account_secret="pw3")
    assert registry.account_secret == "pw3"  # the create answer echoes it (219)
    assert core_client.get_registry(registry).account_secret is None  # hidden unless asked for
    assert core_client.get_registry(registry, fields="account_secret").account_secret == "pw3"
    items, meta = core_client.find_registries(filter={"id": registry.id}, meta=True)
    assert [r.id for r in items] == [registry.id] and meta.total == 1 and meta.limit == 50
    record, single = core_client.get_registry(registry, meta=True)
    assert record.id == registry.id and isinstance(single, m.SingleResourceMeta)
