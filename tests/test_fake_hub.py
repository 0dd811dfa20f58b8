"""The fake Hub over its in-process transport, with plain httpx: state, auth, behaviour, faults.

(The HTTP server and the CLI are in test_fake_server.py, the replay of every recorded real
exchange in test_conformance.py, the query engine in test_fake_rapiq.py.)
"""

from __future__ import annotations

import asyncio
import io
import tarfile
import time

import httpx
import pytest

from flame_hub.testing import FakeHub, RecordedRequest

ADMIN = {"grant_type": "password", "username": "admin", "password": "start123"}


@pytest.fixture
def hub() -> FakeHub:
    return FakeHub()


def login(hub: FakeHub, **grant) -> dict:
    with httpx.Client(transport=hub.transport(), base_url=hub.url) as c:
        resp = c.post("auth/token", json=grant or ADMIN)
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.fixture
def client(hub: FakeHub):
    token = login(hub)["access_token"]
    with httpx.Client(transport=hub.transport(), base_url=hub.url,
                      headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


def data(resp: httpx.Response, status: int = 200):
    assert resp.status_code == status, resp.text
    return resp.json()["data"]


# ----------------------------------------------------------------------------- fresh state
def test_fresh_state_is_a_new_hub(hub, client):
    anonymous = httpx.Client(transport=hub.transport(), base_url=hub.url)
    realms = data(anonymous.get("auth/realms"))  # readable without a token (008)
    assert [r["name"] for r in realms] == ["master"]
    assert [u["name"] for u in data(client.get("auth/users"))] == ["admin"]
    assert "system" in {c["name"] for c in data(client.get("auth/clients"))}
    assert {r["name"] for r in data(client.get("auth/roles"))} == {"admin", "realm_admin"}
    assert data(client.get("core/master-images")) and data(client.get("core/master-image-groups"))
    assert data(client.get("core/nodes")) == [] and data(client.get("storage/buckets")) == []
    assert anonymous.get("core/").json()["version"] == "0.14.0"
    assert anonymous.get("storage/").json()["version"] == "0.14.0"


def test_constructor_validates_arguments():
    with pytest.raises(ValueError, match="port"):
        FakeHub(port=-1)
    with pytest.raises(ValueError, match="token_ttl"):
        FakeHub(token_ttl=0)
    with pytest.raises(ValueError, match="not a Hub version"):
        FakeHub(version="latest")


def test_urls_before_start_serve_the_transport(hub):
    assert hub.url == "http://127.0.0.1:0/" and not hub.running
    assert (hub.auth_url, hub.core_url, hub.storage_url) == (
        hub.url + "auth/", hub.url + "core/", hub.url + "storage/")
    with httpx.Client(transport=hub.transport(), base_url=hub.core_url) as c:
        assert c.get("").json()["version"] == "0.14.0"


# ----------------------------------------------------------------------------- auth
def test_password_grant_json_and_form(hub):
    answer = login(hub)
    assert set(answer) == {"access_token", "expires_in", "token_type", "scope", "refresh_token",
                           "refresh_token_expires_in"}  # 001
    assert answer["expires_in"] == 900 and answer["token_type"] == "Bearer"
    with httpx.Client(transport=hub.transport(), base_url=hub.url) as c:
        form = c.post("auth/token", data=ADMIN)  # 002
        assert form.status_code == 200 and "refresh_token" in form.json()


@pytest.mark.parametrize("body, code, status", [
    ({**ADMIN, "password": "wrong"}, "invalid_credentials", 400),  # 003
    ({**ADMIN, "username": "nobody"}, "invalid_credentials", 400),
    ({"grant_type": "robot_credentials", "id": "x", "secret": "y"}, "unsupported_token_grant_type", 400),
    ({"grant_type": "refresh_token", "refresh_token": ""}, "invalid_request", 400),  # 006
    ({"grant_type": "refresh_token", "refresh_token": "garbage"}, "invalid_token", 400),  # additions 286
    # additions 284, 285: a wrong secret and an unknown client alike
    ({"grant_type": "client_credentials", "client_id": "system", "client_secret": "x"},
     "invalid_client", 401),
    ({"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "start123"},
     "invalid_client", 401),
    ({}, "invalid_request", 400),
])
def test_token_errors_have_authups_shape(hub, body, code, status):
    with httpx.Client(transport=hub.transport(), base_url=hub.url) as c:
        resp = c.post("auth/token", json=body)
    assert resp.status_code == status
    err = resp.json()
    assert err["code"] == code and "statusCode" not in err and "@instanceof" in err


def test_wrong_client_secret_is_authups_oauth2_client_error(hub):
    """additions 284 (client "system", wrong secret) and 285 (unknown client): 401, not 400."""
    with httpx.Client(transport=hub.transport(), base_url=hub.url) as c:
        for client_id in ("system", "rec-unknown-client"):
            resp = c.post("auth/token", json={"grant_type": "client_credentials", "client_id": client_id,
                                              "client_secret": "wrong-secret"})
            assert resp.status_code == 401
            assert resp.json() == {
                "name": "OAuth2ClientError", "message": "Client authentication failed", "code": "invalid_client",
                "@instanceof": ["@ebec/core/BaseError", "@authup/errors/AuthupError", "@authup/specs/OAuth2Error",
                                "@authup/specs/OAuth2ClientError"],
                "error": "invalid_client"}


def test_client_credentials_grant_has_no_refresh_token(hub):
    answer = login(hub, grant_type="client_credentials", client_id="system", client_secret="start123")
    assert set(answer) == {"access_token", "expires_in", "token_type", "scope"}  # 005
    with httpx.Client(transport=hub.transport(), base_url=hub.core_url,
                      headers={"Authorization": f"Bearer {answer['access_token']}"}) as c:
        assert c.get("nodes").status_code == 200


def test_missing_and_invalid_bearer(hub):
    with httpx.Client(transport=hub.transport(), base_url=hub.url) as c:
        for path in ("core/nodes", "storage/buckets"):
            resp = c.get(path)
            assert resp.status_code == 401
            assert resp.json() == {"statusCode": 401, "code": "identity_unauthorized",
                                   "message": "Authentication required.", "issues": []}
            bad = c.get(path, headers={"Authorization": "Bearer this-is-not-a-jwt-token"})  # additions 289, 290
            assert bad.status_code == 500 and "ratelimit-limit" not in bad.headers
            assert bad.json() == {"statusCode": 500, "code": "internal_error", "message": "The JWT is invalid.",
                                  "issues": []}
        bad = c.get("auth/realms", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 400 and bad.json()["code"] == "invalid_token"  # 009


def test_access_tokens_expire_after_token_ttl():
    hub = FakeHub(token_ttl=0.2)
    answer = login(hub)
    assert answer["expires_in"] == 0  # whole seconds, as authup sends it
    with httpx.Client(transport=hub.transport(), base_url=hub.url) as c:
        auth = {"Authorization": f"Bearer {answer['access_token']}"}
        assert c.get("core/nodes", headers=auth).status_code == 200
        time.sleep(0.25)
        expired = c.get("core/nodes", headers=auth)  # additions 294
        assert (expired.status_code, expired.json()["message"]) == (500, "The JWT has expired.")
        # authup ignores an expired bearer: answered as without a token (296)
        assert c.get("auth/realms", headers=auth).status_code == 200
        refreshed = c.post("auth/token", json={"grant_type": "refresh_token",
                                               "refresh_token": answer["refresh_token"]})
        assert refreshed.status_code == 200


def test_refresh_tokens_rotate_and_a_replay_revokes_the_session(hub):
    first = login(hub)
    with httpx.Client(transport=hub.transport(), base_url=hub.url) as c:
        def refresh(token):
            return c.post("auth/token", json={"grant_type": "refresh_token", "refresh_token": token})

        second = refresh(first["refresh_token"])  # 096
        assert second.status_code == 200
        second = second.json()
        assert second["refresh_token"] != first["refresh_token"]
        auth = {"Authorization": f"Bearer {second['access_token']}"}
        assert c.get("core/nodes", headers=auth).status_code == 200
        replay = refresh(first["refresh_token"])  # 097
        assert replay.status_code == 400 and replay.json()["code"] == "invalid_grant"
        revoked = c.get("core/nodes", headers=auth)  # the session is revoked (not recorded: as invalid)
        assert (revoked.status_code, revoked.json()["message"]) == (500, "The JWT is invalid.")
        assert refresh(second["refresh_token"]).status_code == 400
        other = login(hub)  # other sessions are untouched
        assert c.get("core/nodes", headers={"Authorization": f"Bearer {other['access_token']}"}).status_code == 200


def test_expire_tokens_rejects_every_issued_access_token(hub):
    first = login(hub)
    hub.expire_tokens()
    with httpx.Client(transport=hub.transport(), base_url=hub.url) as c:
        expired = c.get("core/nodes", headers={"Authorization": f"Bearer {first['access_token']}"})
        assert (expired.status_code, expired.json()["message"]) == (500, "The JWT has expired.")  # 294
        fresh = login(hub)["access_token"]
        assert c.get("core/nodes", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
        refreshed = c.post("auth/token", json={"grant_type": "refresh_token",
                                               "refresh_token": first["refresh_token"]})
        assert refreshed.status_code == 200


def test_introspection(hub, client):
    token = client.headers["Authorization"].split()[1]
    info = client.post("auth/token/introspect", json={"token": token}).json()
    assert info["active"] is True and info["sub_kind"] == "user" and info["realm_name"] == "master"
    names = {p["name"] for p in info["permissions"]}
    assert {"node_create", "realm_read", "analysis_self_storage_use"} <= names  # 007
    hub.expire_tokens()
    with httpx.Client(transport=hub.transport(), base_url=hub.url) as c:
        assert c.post("auth/token/introspect", json={"token": token}).json() == {"active": False}


# ----------------------------------------------------------------------------- CRUD and rules
def test_node_round_trip(client):
    node = data(client.post("core/nodes", json={"name": "lab-a"}), 201)
    assert node["type"] == "default" and node["hidden"] is False and node["clientId"]
    assert data(client.get(f"core/nodes/{node['id']}"))["name"] == "lab-a"
    updated = data(client.post(f"core/nodes/{node['id']}", json={"hidden": True,
                                                                 "publicKey": "cat-public-key"}), 202)
    assert updated["hidden"] is True and updated["updatedAt"] > node["updatedAt"]
    assert updated["publicKey"] == "6361742d7075626c69632d6b6579"  # stored hex-encoded (notes)
    listed = client.get("core/nodes", params={"filter[hidden]": "true"}).json()
    assert [n["id"] for n in listed["data"]] == [node["id"]] and listed["meta"]["total"] == 1
    deleted = data(client.delete(f"core/nodes/{node['id']}"), 202)
    assert deleted["id"] == node["id"] and deleted["clientId"] is None  # 078
    missing = client.get(f"core/nodes/{node['id']}")
    assert missing.status_code == 404 and missing.json()["message"] == "The node was not found."
    assert data(client.get("auth/clients", params={"filter[name]": node["id"]})) == []


def test_node_gets_a_client_that_can_log_in(hub, client):
    node = data(client.post("core/nodes", json={"name": "lab-b"}), 201)
    creds = client.get(f"core/nodes/{node['id']}/client/credentials").json()
    assert creds["id"] == node["clientId"] and creds["name"] == node["id"] and len(creds["secret"]) == 64
    login(hub, grant_type="client_credentials", client_id=creds["id"], client_secret=creds["secret"])
    renewed = client.post(f"core/nodes/{node['id']}/client/credentials", json={"secret": None})
    assert renewed.status_code == 200 and renewed.json()["secret"] != creds["secret"]
    wrong = client.post(f"core/nodes/{node['id']}/client/credentials", json={"name": 1})
    assert wrong.status_code == 500  # as recorded: the validation error surfaces as 500


def test_registry_gives_nodes_a_registry_project(client):
    bare = data(client.post("core/nodes", json={"name": "no-registry"}), 201)
    resp = client.get(f"core/nodes/{bare['id']}/registry/credentials")
    assert resp.status_code == 400 and "no registry project" in resp.json()["message"]
    registry = data(client.post("core/registries", json={"name": "reg", "host": "harbor.test"}), 201)
    node = data(client.post("core/nodes", json={"name": "with-registry"}), 201)
    assert node["registryId"] == registry["id"] and node["registryProjectId"] and node["externalName"]
    creds = client.get(f"core/nodes/{node['id']}/registry/credentials").json()
    assert creds["host"] == "harbor.test" and creds["externalName"] == node["externalName"]
    assert client.post("core/registries", json={"name": "reg", "host": "x"}).status_code == 409


def test_create_validation_names_every_invalid_key(client):
    empty = client.post("core/nodes", json={})
    assert empty.status_code == 400 and empty.json()["issues"][0]["code"] == "required"  # 028
    bad = client.post("core/nodes", json={"name": "x", "type": "nonsense", "hidden": "no",
                                          "realmId": "not-a-uuid"}).json()
    assert bad["message"] == "Properties name, type, hidden, realmId are invalid."
    assert [i["code"] for i in bad["issues"]] == ["min_length", "one_of_failed", "value_invalid",
                                                  "value_invalid"]
    unknown_ref = client.post("core/project-nodes", json={
        "projectId": "6f2b1438-acb9-4d60-afaa-015a192bbcb0", "nodeId": "6f2b1438-acb9-4d60-afaa-015a192bbcb0"})
    assert unknown_ref.status_code == 400 and unknown_ref.json()["message"] == "Property projectId is invalid"
    realm = client.post("auth/realms", json={"name": ""}).json()  # 018: authup groups the issues
    assert realm["issues"][0]["type"] == "group" and len(realm["issues"][0]["issues"]) == 2


def test_unique_names_and_names_as_addresses(client):
    realm = data(client.post("auth/realms", json={"name": "Lab_Realm"}), 201)
    assert realm["name"] == "lab_realm"  # authup lowercases
    assert data(client.get("auth/realms/lab_realm"))["id"] == realm["id"]
    assert client.post("auth/realms", json={"name": "lab_realm"}).status_code == 409
    first = data(client.post("storage/buckets", json={"name": "same"}), 201)
    data(client.post("storage/buckets", json={"name": "same"}), 201)  # bucket names are not unique
    assert data(client.get("storage/buckets/same"))["id"] == first["id"]
    unknown = client.get("core/nodes/not-a-uuid")
    assert unknown.status_code == 404  # 038 is a recorded artifact (500)


def test_projects_and_analyses(hub, client):
    project = data(client.post("core/projects", json={}), 201)
    assert project["name"]  # generated when left out (notes)
    default = data(client.post("core/nodes", json={"name": "node-default"}), 201)
    aggregator = data(client.post("core/nodes", json={"name": "node-agg", "type": "aggregator"}), 201)
    for node in (default, aggregator):
        link = data(client.post("core/project-nodes", json={"projectId": project["id"],
                                                             "nodeId": node["id"]}), 201)
        assert link["project"]["id"] == project["id"] and link["node"]["id"] == node["id"]  # 061
    assert client.post("core/project-nodes", json={"projectId": project["id"],
                                                   "nodeId": default["id"]}).status_code == 409
    analysis = data(client.post("core/analyses", json={"projectId": project["id"]}), 201)
    assert analysis["project"]["analyses"] == 1 and analysis["clientId"]
    buckets = data(client.get("core/analysis-buckets", params={"filter[analysisId]": analysis["id"]}))
    assert sorted(b["type"] for b in buckets) == ["CODE", "RESULT", "TEMP"]
    stranger = data(client.post("core/nodes", json={"name": "stranger"}), 201)
    outside = client.post("core/analysis-nodes", json={"analysisId": analysis["id"], "nodeId": stranger["id"]})
    assert outside.status_code == 404

    def command(name):
        return client.post(f"core/analyses/{analysis['id']}/command", json={"command": name})

    assert command("nonsense").status_code == 400  # 069
    data(client.post("core/analysis-nodes", json={"analysisId": analysis["id"], "nodeId": default["id"]}), 201)
    refused = command("configurationLock")
    assert refused.status_code == 400 and "aggregator" in refused.json()["message"]
    data(client.post("core/analysis-nodes", json={"analysisId": analysis["id"], "nodeId": aggregator["id"]}), 201)
    current = data(client.get(f"core/analyses/{analysis['id']}"))
    assert current["nodes"] == 2 and current["configurationNodesValid"] is True
    assert command("buildStart").status_code == 400  # not locked
    assert command("configurationLock").json()["message"] == "An entrypoint must be selected."
    code = next(b for b in buckets if b["type"] == "CODE")
    files = {"file": ("main.py", b"print(1)\n", "text/x-python")}
    stored = data(client.post(f"storage/buckets/{code['bucketId']}/upload", files=files), 201)[0]
    data(client.post("core/analysis-bucket-files", json={
        "analysisBucketId": code["id"], "bucketId": code["bucketId"], "bucketFileId": stored["id"],
        "path": "main.py", "root": True}), 201)
    assert command("configurationLock").json()["message"] == "A master image must be assigned to the analysis."
    image = data(client.get("core/master-images"))[0]
    data(client.post(f"core/analyses/{analysis['id']}", json={"masterImageId": image["id"]}), 202)
    assert data(command("configurationLock"), 202)["configurationLocked"] is True
    assert data(command("buildStart"), 202)["buildStatus"] == "starting"
    hub.progress(analysis, complete=True)
    assert data(command("buildCheck"), 202)["buildStatus"] == "executed"
    assert command("distributionStart").json()["message"] == "No docker registry is defined."

    perms = client.get(f"core/analyses/{analysis['id']}/client/permissions").json()["data"]
    assert len(perms) == 2
    node_create = data(client.get("auth/permissions", params={"filter[name]": "node_create"}))[0]
    assert client.post(f"core/analyses/{analysis['id']}/client/permissions",
                       json={"permissionId": node_create["id"]}).status_code == 403
    assert client.post(f"core/analyses/{analysis['id']}/client/permissions", json={}).status_code == 400
    assert client.delete(f"core/analyses/{analysis['id']}/client/permissions/"
                         f"{node_create['id']}").status_code == 404

    deleted = data(client.delete(f"core/analyses/{analysis['id']}"), 202)
    assert deleted["clientId"] is None and deleted["project"]["analyses"] == 0  # 071
    assert data(client.get("core/analysis-buckets", params={"filter[analysisId]": analysis["id"]})) == []
    assert data(client.get("core/analysis-nodes", params={"filter[analysisId]": analysis["id"]})) == []
    assert data(client.get(f"core/projects/{project['id']}"))["nodes"] == 2


def test_logs_need_their_filters(client):
    project = data(client.post("core/projects", json={"name": "logs"}), 201)
    node = data(client.post("core/nodes", json={"name": "log-node"}), 201)
    data(client.post("core/project-nodes", json={"projectId": project["id"], "nodeId": node["id"]}), 201)
    analysis = data(client.post("core/analyses", json={"projectId": project["id"]}), 201)
    assert client.get("core/analysis-node-logs").status_code == 400  # 077
    entry = data(client.post("core/analysis-node-logs", json={
        "analysisId": analysis["id"], "nodeId": node["id"], "level": "info", "message": "hi"}), 202)
    assert entry["message"] == "hi" and entry["labels"]["nodeId"] == node["id"]
    query = {"filter[analysisId]": analysis["id"], "filter[nodeId]": node["id"]}
    assert [e["message"] for e in data(client.get("core/analysis-node-logs", params=query))] == ["hi"]
    assert client.delete("core/analysis-node-logs", params={"filter[analysisId]": analysis["id"]}).status_code == 400
    assert client.delete("core/analysis-node-logs", params=query).status_code == 202
    assert data(client.get("core/analysis-node-logs", params=query)) == []


def test_master_image_and_registry_commands(client):
    assert client.post("core/master-images/command", json={"command": "nope"}).status_code == 400
    assert client.post("core/master-images/command", json={"command": "sync"}).status_code == 202
    assert client.post("core/master-images/command", json={
        "command": "build", "id": "6f2b1438-acb9-4d60-afaa-015a192bbcb0"}).status_code == 404
    registry = data(client.post("core/registries", json={"name": "reg2", "host": "h"}), 201)
    assert client.post("core/services/registry/command", json={"command": "x"}).status_code == 400
    assert client.post("core/services/registry/command",
                       json={"command": "setup", "id": registry["id"]}).status_code == 202
    projects = data(client.get("core/registry-projects", params={"filter[registryId]": registry["id"]}))
    assert sorted(p["type"] for p in projects) == ["incoming", "masterImages", "outgoing"]


def test_upload_and_streams(client):
    bucket = data(client.post("storage/buckets", json={"name": "files"}), 201)
    files = [("a", ("hello.txt", b"hello\n", "text/plain; charset=utf-8")),
             ("b", ("data/raw.bin", b"\x00\x01\x02", "application/octet-stream"))]
    uploaded = client.post(f"storage/buckets/{bucket['id']}/upload", files=files)
    assert uploaded.status_code == 201 and uploaded.json()["meta"] == {"total": 2}  # 088
    first, second = uploaded.json()["data"]
    assert (first["name"], first["size"], first["directory"]) == ("hello.txt", 6, ".")
    assert (second["name"], second["path"], second["directory"]) == ("raw.bin", "data/raw.bin", "data")
    stream = client.get(f"storage/bucket-files/{first['id']}/stream")
    assert stream.content == b"hello\n" and stream.headers["content-type"] == "text/plain; charset=utf-8"
    tar_resp = client.get(f"storage/buckets/{bucket['id']}/stream")
    assert tar_resp.headers["content-type"] == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(tar_resp.content)) as tar:
        assert {m.name: tar.extractfile(m).read() for m in tar.getmembers()} == {
            "hello.txt": b"hello\n", "data/raw.bin": b"\x00\x01\x02"}
    not_multipart = client.post(f"storage/buckets/{bucket['id']}/upload", json={})
    assert not_multipart.status_code == 400
    data(client.delete(f"storage/buckets/{bucket['id']}"), 202)
    assert data(client.get("storage/bucket-files")) == []


def test_rate_limit_headers(hub, client):
    with httpx.Client(transport=hub.transport(), base_url=hub.url) as anonymous:
        assert anonymous.get("core/").headers["ratelimit-limit"] == "1200"
    first = client.get("core/nodes").headers
    second = client.get("core/nodes").headers
    assert first["ratelimit-limit"] == "6000"
    assert int(second["ratelimit-remaining"]) == int(first["ratelimit-remaining"]) - 1
    assert 0 < int(first["ratelimit-reset"]) <= 60


# ----------------------------------------------------------------------------- faults, recording
def test_fail_next_answers_the_status_then_recovers(hub, client):
    hub.fail_next("GET", "/core/nodes", status=503, times=2)
    assert client.get("core/projects").status_code == 200  # other paths untouched
    assert client.post("core/nodes", json={"name": "other-method"}).status_code == 201
    first = client.get("core/nodes/6f2b1438-acb9-4d60-afaa-015a192bbcb0")  # "and below"
    assert first.status_code == 503 and first.json()["statusCode"] == 503
    assert client.get("core/nodes").status_code == 503
    assert client.get("core/nodes").status_code == 200


def test_fail_next_with_headers_and_body(hub, client):
    hub.fail_next("get", "/core/nodes", status=429, headers={"Retry-After": "2"},
                  body={"message": "slow down"})
    resp = client.get("core/nodes")
    assert resp.status_code == 429 and resp.headers["retry-after"] == "2"
    assert resp.json() == {"message": "slow down"}
    hub.fail_next("*", "/auth/token", status=500, body="boom")
    resp = client.post("auth/token", json=ADMIN)
    assert resp.status_code == 500 and resp.text == "boom"
    assert "@instanceof" not in resp.text


def test_fail_next_matches_whole_segments(hub, client):
    hub.fail_next("GET", "/core/nodes")
    assert client.get("core/nodes-other").status_code == 404  # not below /core/nodes
    assert client.get("core/nodes").status_code == 503


@pytest.mark.parametrize("kwargs, match", [
    ({"method": "", "path": "/core/nodes"}, "method"),
    ({"method": "GET", "path": "core/nodes"}, "path"),
    ({"method": "GET", "path": "/core/nodes", "times": 0}, "times"),
    ({"method": "GET", "path": "/core/nodes", "status": 42}, "status"),
])
def test_fault_arguments_are_checked(hub, kwargs, match):
    with pytest.raises(ValueError, match=match):
        hub.fail_next(**kwargs)


def test_drop_next_raises_like_a_dropped_connection(hub, client):
    hub.drop_next("GET", "/core/nodes")
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("core/nodes")
    assert client.get("core/nodes").status_code == 200


def test_latency_is_added_to_every_request(hub, client):
    hub.latency = 0.15
    started = time.perf_counter()
    client.get("core/")
    assert time.perf_counter() - started >= 0.15
    with pytest.raises(ValueError):
        hub.latency = -1


def test_requests_are_recorded(hub, client):
    hub.clear_requests()
    client.get("core/nodes", params=[("filter[name]", "a,b"), ("page[limit]", "5"), ("sort", "-name")])
    client.post("core/nodes", json={"name": "recorded"})
    first, second = hub.requests
    assert isinstance(first, RecordedRequest)
    assert (first.method, first.path) == ("GET", "/core/nodes")
    assert first.params == [("filter[name]", "a,b"), ("page[limit]", "5"), ("sort", "-name")]
    assert first.headers["authorization"].startswith("Bearer ") and first.json is None
    assert (second.method, second.json) == ("POST", {"name": "recorded"})
    hub.clear_requests()
    assert hub.requests == []


def test_reset_returns_to_a_fresh_hub(hub, client):
    data(client.post("core/nodes", json={"name": "gone-after-reset"}), 201)
    hub.fail_next("GET", "/core/projects")
    hub.latency = 0.5
    hub.reset()
    assert hub.latency == 0 and hub.requests == []
    fresh = login(hub)["access_token"]
    with httpx.Client(transport=hub.transport(), base_url=hub.url,
                      headers={"Authorization": f"Bearer {fresh}"}) as c:
        assert data(c.get("core/nodes")) == []
        assert c.get("core/projects").status_code == 200
    gone = client.get("core/nodes")  # tokens of before are gone: signed with another key
    assert (gone.status_code, gone.json()["message"]) == (500, "The token header property kid is invalid.")


def test_seed_bulk_records(hub, client):
    seeded = hub.seed("nodes", 120, hidden=lambda i: i % 2 == 0)
    assert len(seeded) == 120 and seeded[0]["name"] == "node-0" and seeded[0]["type"] == "default"
    page = client.get("core/nodes", params={"page[limit]": "500"}).json()
    assert page["meta"]["total"] == 120 and len(page["data"]) == 50
    assert client.get("core/nodes", params={"filter[hidden]": "true"}).json()["meta"]["total"] == 60
    named = hub.seed("projects", 2, name="study-{i}", display_name="Study {i}")
    assert [p["displayName"] for p in named] == ["Study 0", "Study 1"]
    with pytest.raises(ValueError, match="no key"):
        hub.seed("nodes", 1, colour="red")
    with pytest.raises(ValueError, match="does not exist"):
        hub.seed("robots", 1)
    assert len(hub.records("nodes")) == 120


def test_seed_is_fast_enough_for_benchmarks(hub, client):
    started = time.perf_counter()
    hub.seed("nodes", 10_000)
    assert time.perf_counter() - started < 5
    assert client.get("core/nodes", params={"page[offset]": "9990"}).json()["meta"]["total"] == 10_000


# ----------------------------------------------------------------------------- async and eras
@pytest.mark.anyio
async def test_async_transport_with_concurrent_latency(hub):
    token = login(hub)["access_token"]
    hub.latency = 0.2
    async with httpx.AsyncClient(transport=hub.transport(), base_url=hub.core_url,
                                 headers={"Authorization": f"Bearer {token}"}) as c:
        started = time.perf_counter()
        answers = await asyncio.gather(*(c.get("nodes") for _ in range(5)))
        elapsed = time.perf_counter() - started
        assert [a.status_code for a in answers] == [200] * 5
        assert 0.2 <= elapsed < 0.8  # the latency sleeps do not block each other
        hub.latency = 0
        hub.drop_next("GET", "/core/nodes")
        with pytest.raises(httpx.RemoteProtocolError):
            await c.get("nodes")
        created = await c.post("nodes", json={"name": "async-node"})
        assert created.status_code == 201


def test_legacy_era_speaks_snake_case_and_bare_records():
    hub = FakeHub(version="0.8.5")
    token = login(hub)["access_token"]
    with httpx.Client(transport=hub.transport(), base_url=hub.core_url,
                      headers={"Authorization": f"Bearer {token}"}) as c:
        assert c.get("").json()["version"] == "0.8.5"
        node = c.post("nodes", json={"name": "legacy-node"})
        assert node.status_code == 201
        body = node.json()
        assert "data" not in body and "realm_id" in body and "created_at" in body
        listed = c.get("nodes").json()
        assert "schema" not in listed["meta"] and listed["data"][0]["id"] == body["id"]


# ----------------------------------------------------------------------------- issue 11 rules
# The conformance replay checks each recorded exchange; these check what lies between them.

def test_identity_provider_branches(client):
    """One branch must accept the body (0.14 tries all; a body of another protocol's keys fails
    with one group per branch), and a record answers with its own branch's attributes only."""
    base = {"name": "idp-branches", "enabled": True}
    refused = client.post("auth/identity-providers", json={**base, "protocol": "oidc",
                                                           "url": "ldap://x", "user": "u", "password": "p"})
    assert refused.status_code == 400
    (group,) = refused.json()["issues"]
    assert group["code"] == "one_of_failed" and [b["data"]["branch"] for b in group["issues"]] == [0, 1, 2]
    assert group["issues"][0]["issues"][0]["message"] == "The protocol should be LDAP."
    made = data(client.post("auth/identity-providers", json={
        **base, "protocol": "oauth2", "preset": "github", "clientId": "cid"}), 201)
    assert made["preset"] == "github" and made["clientId"] == "cid" and "url" not in made
    assert "tokenUrl" not in data(client.get(f"auth/identity-providers/{made['id']}"))
    deleted = data(client.delete(f"auth/identity-providers/{made['id']}"), 202)
    assert "clientId" not in deleted and deleted["preset"] == "github"


def test_legacy_identity_provider_checks_the_chosen_protocol_only():
    hub = FakeHub(version="0.8.5")
    token = login(hub)["access_token"]
    with httpx.Client(transport=hub.transport(), base_url=hub.auth_url,
                      headers={"Authorization": f"Bearer {token}"}) as c:
        body = {"slug": "idp-legacy", "name": "idp-legacy", "enabled": True, "protocol": "ldap",
                "url": "ldap://x", "user": "cn=u"}
        refused = c.post("identity-providers", json=body).json()
        assert refused["children"] == [{"path": "protocol.password", "pathAbsolute": "protocol",
                                        "received": "undefined", "expected": "string"}]
        made = c.post("identity-providers", json={**body, "password": "pw"})
        assert made.status_code == 201 and made.json()["user"] == "cn=u"


def test_registry_name_and_host_are_unique_each_also_on_update(client):
    first = data(client.post("core/registries", json={"name": "reg-one", "host": "one.example.org"}), 201)
    data(client.post("core/registries", json={"name": "reg-two", "host": "two.example.org"}), 201)
    for change in ({"host": "two.example.org"}, {"name": "reg-two"}):
        assert client.post(f"core/registries/{first['id']}", json=change).status_code == 409
    assert client.post("core/registries", json={"name": "reg-three", "host": "three.example.org",
                                                "accountName": "ab"}).status_code == 400


def test_legacy_bucket_delete_refuses_files_and_keeps_everything():
    hub = FakeHub(version="0.8.5")
    token = login(hub)["access_token"]
    with httpx.Client(transport=hub.transport(), base_url=hub.storage_url,
                      headers={"Authorization": f"Bearer {token}"}) as c:
        bucket = c.post("buckets", json={"name": "full-bucket"}).json()
        (stored,) = c.post(f"buckets/{bucket['id']}/upload", files={"file": ("a.txt", b"a")}).json()["data"]
        refused = c.delete(f"buckets/{bucket['id']}")
        assert (refused.status_code, refused.json()["code"]) == (500, "BucketNotEmpty")
        assert c.get(f"bucket-files/{stored['id']}").status_code == 200
        assert c.delete(f"bucket-files/{stored['id']}").status_code == 202
        assert c.delete(f"buckets/{bucket['id']}").status_code == 202


def test_current_bucket_delete_takes_its_files_along(client):
    bucket = data(client.post("storage/buckets", json={"name": "full-bucket"}), 201)
    (stored,) = data(client.post(f"storage/buckets/{bucket['id']}/upload", files={"file": ("a.txt", b"a")}), 201)
    assert client.delete(f"storage/buckets/{bucket['id']}").status_code == 202
    assert client.get(f"storage/bucket-files/{stored['id']}").status_code == 404


def test_node_logs_are_filtered_by_their_labels(client):
    project = data(client.post("core/projects", json={"name": "log-project"}), 201)
    node = data(client.post("core/nodes", json={"name": "log-node"}), 201)
    data(client.post("core/project-nodes", json={"projectId": project["id"], "nodeId": node["id"]}), 201)
    analysis = data(client.post("core/analyses", json={"projectId": project["id"]}), 201)
    entry = data(client.post("core/analysis-node-logs", json={
        "analysisId": analysis["id"], "nodeId": node["id"], "level": "info", "message": "m"}), 202)
    assert set(entry) == {"time", "level", "channel", "service", "message", "labels"}
    query = {"filter[analysisId]": analysis["id"], "filter[nodeId]": node["id"]}
    assert data(client.get("core/analysis-node-logs", params=query)) == [entry]
    other = {**query, "filter[nodeId]": project["id"]}
    assert data(client.get("core/analysis-node-logs", params=other)) == []
    assert client.delete("core/analysis-node-logs", params=query).status_code == 202
    assert data(client.get("core/analysis-node-logs", params=query)) == []
