"""Client behaviour that needs no Hub: wire requests checked on an httpx.MockTransport."""

from __future__ import annotations

import asyncio
import json
import uuid
import warnings

import httpx
import pytest

from _jwt import jwt

import flame_hub
from flame_hub import models as m
from flame_hub.dialects import CURRENT, LEGACY

NODE_ID = "16c9e5fe-546f-4754-974a-59fd1a9719b8"
REALM_ID = "4b3ca244-c488-4e86-ae3d-a677cd8255c4"
NODE = {"id": NODE_ID, "name": "n1", "realmId": REALM_ID, "hidden": False, "type": "default"}


class Recorder:
    """A MockTransport handler answering like the Hub >= 0.13 and recording every request.
    The clients talking to it are told their dialect (``dialect=CURRENT``), so that they send
    no version detection (``GET {base}/``) first."""

    def __init__(self, answers=None):
        self.requests: list[httpx.Request] = []
        self.answers = answers or {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, request.url.path)
        if key in self.answers:
            status, body = self.answers[key]
            return httpx.Response(status, **({"json": body} if not isinstance(body, (str, bytes)) else {"content": body}))
        if request.method == "GET" and request.url.path.rstrip("/").endswith(("nodes", "realms")):
            return httpx.Response(200, json={"data": [NODE], "meta": {"total": 1, "limit": 50, "offset": 0}})
        if request.method == "POST":
            return httpx.Response(201, json={"data": NODE, "meta": {}})
        return httpx.Response(200 if request.method == "GET" else 202, json={"data": NODE, "meta": {}})

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


@pytest.fixture
def rec():
    return Recorder()


@pytest.fixture
def core(rec):
    with flame_hub.CoreClient("http://hub.test/core", transport=httpx.MockTransport(rec), dialect=CURRENT) as client:
        yield client


def _params(request: httpx.Request) -> list[tuple[str, str]]:
    return list(request.url.params.multi_items())


def test_default_base_urls_are_the_public_hub(monkeypatch):
    for var in ("FLAME_HUB_URL", "FLAME_HUB_AUTH_URL", "FLAME_HUB_CORE_URL", "FLAME_HUB_STORAGE_URL"):
        monkeypatch.delenv(var, raising=False)   # the environment would win (see test_hub_entry)
    for cls, url in ((flame_hub.CoreClient, "https://core.privateaim.dev/"),
                     (flame_hub.StorageClient, "https://storage.privateaim.dev/"),
                     (flame_hub.AuthClient, "https://auth.privateaim.dev/")):
        with cls() as client:
            assert client.base_url == url


def test_client_wins_over_base_url_with_a_warning(rec):
    http = httpx.Client(base_url="http://other.test/core/", transport=httpx.MockTransport(rec))
    with pytest.warns(UserWarning, match="ignored"):
        core = flame_hub.CoreClient(base_url="http://hub.test/core/", client=http, dialect=CURRENT)
    core.get_node(NODE_ID)
    assert rec.last.url.host == "other.test"
    core.close()
    assert not http.is_closed  # a client you pass in stays yours
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flame_hub.CoreClient(client=http)  # no warning when only client= is given
    http.close()


def test_paths_are_relative_to_the_gateway_prefix(core, rec):
    core.get_node(NODE_ID)
    assert rec.last.url.path == f"/core/nodes/{NODE_ID}"


def test_get_sends_includes_and_fields(core, rec):
    node = core.get_node(uuid.UUID(NODE_ID), fields="public_key")
    assert isinstance(node, m.Node) and node.name == "n1"
    params = dict(_params(rec.last))
    assert set(params["include"].split(",")) == {"registry", "registryProject"}
    assert params["fields"] == "+publicKey"
    core.get_node(NODE_ID, include=None)
    assert "include" not in dict(_params(rec.last))


@pytest.mark.parametrize("bad", ["not-a-uuid", "", 42, None, "16c9e5fe-546f-4754-974a"])
def test_malformed_ids_raise_before_sending(core, rec, bad):
    for call in (core.get_node, core.delete_node, lambda i: core.update_node(i, hidden=True)):
        with pytest.raises(ValueError, match="UUID"):
            call(bad)
    assert rec.requests == []


def test_ids_accept_models_and_strings(core, rec):
    node = m.Node.model_validate(NODE)
    core.delete_node(node)
    core.delete_node(NODE_ID.upper())
    assert [r.url.path for r in rec.requests] == [f"/core/nodes/{NODE_ID}"] * 2


@pytest.mark.parametrize("body", ["<html>Not Found</html>", b"", {"statusCode": 404}, [1, 2]])
def test_get_returns_none_on_any_404(rec, body):
    rec.answers[("GET", f"/core/nodes/{NODE_ID}")] = (404, body)
    rec.answers[("DELETE", f"/core/nodes/{NODE_ID}")] = (404, body)
    with flame_hub.CoreClient("http://hub.test/core/", transport=httpx.MockTransport(rec), dialect=CURRENT) as core:
        assert core.get_node(NODE_ID) is None
        with pytest.raises(flame_hub.NotFound):  # only get_<x> turns a 404 into None
            core.delete_node(NODE_ID)


def test_create_sends_what_was_given_and_the_1_1_0_defaults(core, rec):
    realm = m.Realm.model_validate({"id": REALM_ID, "name": "master"})
    node = core.create_node("my-node", realm, node_type="aggregator")
    assert isinstance(node, m.Node)
    assert rec.last.method == "POST" and rec.last.url.path == "/core/nodes"
    # hidden=False is flame-hub-client 1.1.0's default, sent as it sent it; the None defaults
    # (registry_id, external_name) are not sent
    assert json.loads(rec.last.content) == {"name": "my-node", "realmId": REALM_ID, "type": "aggregator",
                                            "hidden": False}
    core.create_node("my-node")
    assert json.loads(rec.last.content) == {"name": "my-node", "type": "default", "hidden": False}
    core.create_node("my-node", None, hidden=True)  # a None that is given is sent
    assert json.loads(rec.last.content) == {"name": "my-node", "realmId": None, "type": "default",
                                            "hidden": True}


def test_create_checks_arguments_before_sending(core, rec):
    with pytest.raises(TypeError):
        core.create_node()  # name is required
    with pytest.raises(TypeError, match="both"):
        core.create_node("x", node_type="default", type="default")
    with pytest.raises(ValueError):
        core.create_node("x", node_type="satellite")
    with pytest.raises(ValueError, match="does not accept"):
        core.update_node(NODE_ID, robot_id=NODE_ID)  # not a 1.1.0 argument; Hub 0.14 ignores it
    assert rec.requests == []


def test_create_user_and_client_send_the_1_1_0_defaults_the_era_takes_without_a_warning(rec):
    with flame_hub.AuthClient("http://hub.test/auth/", transport=httpx.MockTransport(rec), dialect=CURRENT) as auth:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # is_confidential=True is 1.1.0's default: dropped quietly
            auth.create_user("u-1", "u@example.com")
            assert json.loads(rec.last.content) == {"name": "u-1", "email": "u@example.com",
                                                    "active": True, "nameLocked": False}
            auth.create_client("c-1", REALM_ID, secret="s")
            assert json.loads(rec.last.content) == {
                "name": "c-1", "realmId": REALM_ID, "secret": "s", "active": True, "secretHashed": False,
                "authMethod": "secret", "tokenBindingMethod": "none"}
            auth.create_client("c-1", REALM_ID, None, active=False)  # given values win
            assert json.loads(rec.last.content)["active"] is False
            assert json.loads(rec.last.content)["secret"] is None


def test_an_argument_1_1_0_took_and_the_hub_ignores_warns_once_and_is_not_sent(core, rec):
    from flame_hub.clients import IgnoredArgumentWarning

    with pytest.warns(IgnoredArgumentWarning, match=r"update_registry_project\(\): the Hub 0.14 ignores "
                                                  r"registry_project_type") as caught:
        core.update_registry_project(NODE_ID, "n-1", registry_project_type="node")
    assert caught[0].filename == __file__  # it points at the call, not into flame_hub
    assert json.loads(rec.last.content) == {"name": "n-1"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second time is quiet
        core.update_registry_project(NODE_ID, registry_project_type="node")
    assert json.loads(rec.last.content) == {}


def test_update_sends_only_given_fields_and_none_as_null(core, rec):
    core.update_node(NODE_ID, hidden=True, external_name=None)
    assert rec.last.method == "POST" and rec.last.url.path == f"/core/nodes/{NODE_ID}"
    assert json.loads(rec.last.content) == {"hidden": True, "externalName": None}
    core.update_node(NODE_ID, node_type=m.ENUMS["NodeType"].AGGREGATOR, public_key=m.UNSET)
    assert json.loads(rec.last.content) == {"type": "aggregator"}


def test_find_translates_the_original_arguments(core, rec):
    items, meta = core.find_nodes(filter={"name": "n1", "realm_id": REALM_ID}, page={"limit": 10, "offset": 20},
                                  sort={"by": "created_at", "order": "descending"}, meta=True)
    assert [n.name for n in items] == ["n1"] and isinstance(meta, m.ResourceListMeta) and meta.total == 1
    params = _params(rec.last)
    assert ("filter[name]", "n1") in params and ("filter[realmId]", REALM_ID) in params
    assert ("page[limit]", "10") in params and ("page[offset]", "20") in params
    assert dict(params)["sort"].startswith("-createdAt")


def test_find_refuses_keys_the_hub_would_ignore(core, rec):
    with pytest.raises(ValueError):
        core.find_nodes(filter={"nmae": "typo"})
    assert rec.requests == []


def test_get_list_is_the_first_page(core, rec):
    assert [n.id for n in core.get_nodes()] == [uuid.UUID(NODE_ID)]
    params = dict(_params(rec.last))
    assert params["page[limit]"] == "50" and params["page[offset]"] == "0"


def test_per_call_auth_override(core, rec):
    token = jwt("per-call")
    core.get_node(NODE_ID, auth=token)
    assert rec.last.headers["authorization"] == f"Bearer {token}"
    core.get_node(NODE_ID, auth=None)
    assert "authorization" not in rec.last.headers


def test_meta_on_get(core, rec):
    rec.answers[("GET", f"/core/nodes/{NODE_ID}")] = (200, {"data": NODE, "meta": {"schema": {"name": "node"}}})
    node, meta = core.get_node(NODE_ID, meta=True)
    assert node.name == "n1" and meta.response_schema == {"name": "node"}


def test_legacy_dialect_speaks_snake_case(rec):
    rec.answers[("GET", f"/core/nodes/{NODE_ID}")] = (200, {"id": NODE_ID, "realm_id": REALM_ID})
    with flame_hub.CoreClient("http://hub.test/core/", transport=httpx.MockTransport(rec),
                              dialect=LEGACY) as core:
        node = core.get_node(NODE_ID)
        assert node.realm_id == uuid.UUID(REALM_ID)  # a bare snake_case record
        rec.answers[("POST", f"/core/nodes/{NODE_ID}")] = (202, {"id": NODE_ID, "external_name": "x"})
        assert core.update_node(NODE_ID, external_name="x").external_name == "x"
        assert json.loads(rec.last.content) == {"external_name": "x"}
        with pytest.raises(ValueError, match="meta=True"):
            core.get_node(NODE_ID, meta=True)


def test_operations_an_era_lacks_raise(rec):
    with flame_hub.AuthClient("http://hub.test/auth/", transport=httpx.MockTransport(rec), dialect=CURRENT) as auth:
        with pytest.raises(ValueError, match="robots"):
            auth.get_robot(NODE_ID)  # current authup has no robots
    assert rec.requests == []


def test_analysis_command_is_checked_and_returns_the_analysis(core, rec):
    analysis = {"id": NODE_ID, "configurationLocked": True}
    rec.answers[("POST", f"/core/analyses/{NODE_ID}/command")] = (202, {"data": analysis, "meta": {}})
    result = core.send_analysis_command(NODE_ID, m.ENUMS["AnalysisCommand"].CONFIGURATION_LOCK)
    assert isinstance(result, m.Analysis) and result.configuration_locked is True
    assert json.loads(rec.last.content) == {"command": "configurationLock"}
    with pytest.raises(ValueError, match="allowed"):
        core.send_analysis_command(NODE_ID, "spinUp")  # a 0.8 command; the 0.14 Hub refuses it


def test_registry_and_master_image_commands(core, rec):
    core.send_registry_command(NODE_ID, "setup")
    assert rec.last.url.path == "/core/services/registry/command"
    assert json.loads(rec.last.content) == {"command": "setup", "id": NODE_ID}
    assert core.sync_master_images() is None
    assert json.loads(rec.last.content) == {"command": "sync"}
    core.build_master_image(NODE_ID)
    assert json.loads(rec.last.content) == {"command": "build", "id": NODE_ID}


def test_log_deletes_are_always_scoped(core, rec):
    core.delete_analysis_node_logs(NODE_ID, REALM_ID)
    assert rec.last.method == "DELETE" and rec.last.url.path == "/core/analysis-node-logs"
    assert sorted(_params(rec.last)) == [("filter[analysisId]", NODE_ID), ("filter[nodeId]", REALM_ID)]
    core.delete_analysis_logs(NODE_ID)
    assert _params(rec.last) == [("filter[analysisId]", NODE_ID)]
    count = len(rec.requests)
    for bad in (None, "", "*"):
        with pytest.raises(ValueError):
            core.delete_analysis_logs(bad)
    with pytest.raises(TypeError):
        core.delete_analysis_node_logs(NODE_ID)  # node_id is required
    assert len(rec.requests) == count


def test_credentials_are_bare_records(core, rec):
    creds = {"id": REALM_ID, "name": NODE_ID, "displayName": NODE_ID, "secret": "s3cr3t"}
    rec.answers[("GET", f"/core/nodes/{NODE_ID}/client/credentials")] = (200, creds)
    rec.answers[("POST", f"/core/nodes/{NODE_ID}/client/credentials")] = (200, {**creds, "secret": "new"})
    assert core.get_node_client_credentials(NODE_ID).secret == "s3cr3t"
    assert core.update_node_client_credentials(NODE_ID, secret=None).secret == "new"
    assert json.loads(rec.last.content) == {"secret": None}


def test_upload_keeps_each_part_content_type(rec, tmp_path):
    rec.answers[("POST", f"/storage/buckets/{NODE_ID}/upload")] = (201, {"data": [
        {"id": REALM_ID, "name": "a.txt", "bucketId": NODE_ID}], "meta": {"total": 1}})
    path = tmp_path / "data.csv"
    path.write_text("a,b\n")
    spec = {"file_name": "x.bin", "content": b"\x00\x01", "content_type": "application/x-custom"}
    given = dict(spec)
    with flame_hub.StorageClient("http://hub.test/storage/", transport=httpx.MockTransport(rec), dialect=CURRENT) as storage:
        files = storage.upload_to_bucket(NODE_ID, spec, path, ("note.txt", "hello"))
    assert [f.name for f in files] == ["a.txt"] and isinstance(files[0], m.BucketFile)
    assert spec == given  # the caller's dict is not changed (upstream bug)
    body = rec.last.content
    assert b"Content-Type: application/x-custom" in body
    assert b'filename="data.csv"' in body and b"Content-Type: text/csv" in body
    assert b'filename="note.txt"' in body and b"Content-Type: text/plain" in body and b"hello" in body
    assert rec.last.headers["content-type"].startswith("multipart/form-data")


def test_upload_refuses_unclear_input(rec):
    with flame_hub.StorageClient("http://hub.test/storage/", transport=httpx.MockTransport(rec), dialect=CURRENT) as storage:
        with pytest.raises(ValueError):
            storage.upload_to_bucket(NODE_ID)
        with pytest.raises(ValueError):
            storage.upload_to_bucket(NODE_ID, b"no name")
        with pytest.raises(ValueError):
            storage.upload_to_bucket(NODE_ID, {"file_name": "x"})
    assert rec.requests == []


def test_streams_raise_on_error_status_instead_of_yielding_it(rec):
    rec.answers[("GET", f"/storage/bucket-files/{NODE_ID}/stream")] = (404, {"statusCode": 404, "message": "gone"})
    with flame_hub.StorageClient("http://hub.test/storage/", transport=httpx.MockTransport(rec), dialect=CURRENT) as storage:
        with pytest.raises(flame_hub.NotFound):
            b"".join(storage.stream_bucket_file(NODE_ID))


def test_download_writes_atomically_with_progress(rec, tmp_path):
    payload = b"x" * 200_000
    rec.answers[("GET", f"/storage/bucket-files/{NODE_ID}/stream")] = (200, payload)
    seen = []
    with flame_hub.StorageClient("http://hub.test/storage/", transport=httpx.MockTransport(rec), dialect=CURRENT) as storage:
        target = storage.download_bucket_file(NODE_ID, tmp_path / "out" / "f.bin",
                                              progress=lambda done, total: seen.append((done, total)),
                                              chunk_size=65536)
        assert target.read_bytes() == payload
        assert seen[-1] == (len(payload), len(payload)) and len(seen) >= 2
        rec.answers[("GET", f"/storage/bucket-files/{NODE_ID}/stream")] = (404, {"message": "gone"})
        with pytest.raises(flame_hub.NotFound):
            storage.download_bucket_file(NODE_ID, tmp_path / "missing.bin")
    assert not (tmp_path / "missing.bin").exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["f.bin"]  # no temp file left


def test_async_client_shares_the_helpers(rec):
    async def main():
        async with flame_hub.AsyncCoreClient("http://hub.test/core/", transport=httpx.MockTransport(rec), dialect=CURRENT) as core:
            node = await core.get_node(NODE_ID)
            created = await core.create_node("n1", node_type="default")
            found = await core.find_nodes(filter={"name": "n1"})
            listed = [n async for n in core.nodes.filter(name="n1")]
            return node, created, found, listed

    node, created, found, listed = asyncio.run(main())
    assert node.name == created.name == found[0].name == listed[0].name == "n1"
    assert json.loads(rec.requests[1].content) == {"name": "n1", "type": "default", "hidden": False}


def test_managers_are_querysets_per_resource(core):
    from flame_hub.query import QuerySet

    assert isinstance(core.nodes, QuerySet) and core.nodes is core.nodes
    assert core.nodes.resource.name == "nodes"
    for name in ("projects", "analysis_nodes", "registry_projects", "master_images"):
        assert isinstance(getattr(core, name), QuerySet)
    assert not hasattr(core, "buckets")  # storage resources live on the StorageClient


def test_repr_shows_no_secrets():
    token = jwt("secret")
    core = flame_hub.CoreClient("http://hub.test/core/", auth=token)
    assert token not in repr(core) and "hub.test" in repr(core)
    core.close()


def test_get_raises_when_the_404_comes_from_the_token_endpoint_not_the_record():
    """A wrong auth URL must not read as "no such node" (get_<x> returns None only when the
    record's own URL answered 404)."""
    import uuid as _uuid

    import httpx as _httpx

    import flame_hub as _fh
    from flame_hub.testing import FakeHub

    hub = FakeHub()
    transport = hub.transport()
    wrong = _fh.auth.PasswordAuth("admin", "start123", base_url=hub.url + "wrong/",
                                  client=_httpx.Client(transport=transport))
    with _fh.CoreClient(base_url=hub.core_url, auth=wrong, transport=transport) as core:
        with pytest.raises(_fh.NotFound, match="token"):
            core.get_node(_uuid.uuid4())
    right = _fh.auth.PasswordAuth("admin", "start123", base_url=hub.auth_url,
                                  client=_httpx.Client(transport=transport))
    with _fh.CoreClient(base_url=hub.core_url, auth=right, transport=transport) as core:
        assert core.get_node(_uuid.uuid4()) is None
