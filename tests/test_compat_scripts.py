"""Scripts written for flame-hub-client 1.1.0, run against this package and the Hub under test.

Each test is a small script in 1.1.0's style: only names and calls 1.1.0 documents, its argument
order and defaults, its return shapes (``None`` from ``get_<x>`` on 404, lists from ``find_*``,
generators from ``stream_*``) and its error type (``HubAPIError.error_response``). They run on
every Hub era where the era has the resources they touch; what they observe is what 1.1.0's own
users observed.
"""

from __future__ import annotations

import uuid
import warnings

import httpx
import pytest

import flame_hub
from flame_hub.models import Node, User
from flame_hub.types import AnalysisBucketType


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _admin_token(hub_env) -> str:
    """A bearer token as a 1.1.0 user obtains one for ``auth="<token>"`` (the password grant)."""
    response = httpx.post(hub_env.auth_url + "token", json={
        "grant_type": "password", "username": hub_env.admin_username,
        "password": hub_env.admin_password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _master_realm(auth_client):
    realms = auth_client.find_realms(filter={"name": "master"})
    assert len(realms) == 1
    return realms[0]


# --- records: equality, fields set, None on 404 --------------------------------------------------

def test_two_reads_are_equal_and_an_update_makes_them_differ(auth_client, core_client):
    realm = _master_realm(auth_client)
    node = core_client.create_node(_name("cmp"), realm.id)
    try:
        first, second = core_client.get_node(node.id), core_client.get_node(node)
        assert first == second
        assert first.hidden is False and first.type == "default"  # 1.1.0's create defaults
        updated = core_client.update_node(node, hidden=True)
        assert updated.hidden is True
        assert core_client.get_node(node.id) != first
        assert core_client.get_node(node.id) == core_client.get_node(str(node.id))
    finally:
        core_client.delete_node(node)
    assert core_client.get_node(node.id) is None


def test_get_of_an_unknown_id_is_none(auth_client, core_client, storage_client):
    unknown = uuid.uuid4()
    assert core_client.get_node(unknown) is None
    assert core_client.get_project(str(unknown)) is None
    assert core_client.get_analysis(unknown) is None
    assert storage_client.get_bucket(unknown) is None
    assert auth_client.get_user(unknown) is None
    assert auth_client.get_role(unknown) is None


def test_model_fields_set_holds_optional_fields_and_relations_only_when_sent(auth_client, core_client):
    assert flame_hub.get_field_names(User) == ("email",)
    assert set(flame_hub.get_includable_names(Node)) == {"registry", "registry_project"}
    user = auth_client.create_user(_name("fs"), "fs@example.com")
    try:
        plain = auth_client.get_user(user.id)
        assert "email" not in plain.model_fields_set
        with_email = auth_client.get_user(user.id, fields="email")
        assert "email" in with_email.model_fields_set and with_email.email == "fs@example.com"
        assert "realm" in plain.model_fields_set  # relations are always included, as 1.1.0 did
    finally:
        auth_client.delete_user(user)
    node = core_client.create_node(_name("fs"))
    try:
        got = core_client.get_node(node.id)
        assert set(flame_hub.get_includable_names(Node)) <= got.model_fields_set
        listed = core_client.find_nodes(filter={"id": str(node.id)})
        assert listed == [got]
    finally:
        core_client.delete_node(node)


# --- find_* with 1.1.0's keys ------------------------------------------------------------------

# a Hub has master images once its sync ran: the worker reads them from GitHub (additions 224;
# a deployment without network has none, hub-spec resources.json)
@pytest.mark.needs("worker", "internet")
def test_find_with_camel_case_filter_keys_and_plain_dict_command_arguments(hub_env, core_client):
    core_client.sync_master_images()
    images = core_client.get_master_images()
    assert images
    image = images[0]
    found = core_client.find_master_images(filter={"virtualPath": image.virtual_path})
    assert [i.id for i in found] == [image.id]
    assert core_client.find_master_images(filter={"virtual_path": image.virtual_path}) == found
    arguments = [a for i in images for a in (i.command_arguments or [])]
    assert all(isinstance(a, dict) and set(a) == {"value", "position"} for a in arguments)
    assert arguments or hub_env.version != "0.14.0"  # Hub 0.8 images have none


@pytest.mark.era("0.14.0")  # Hub 0.8 cannot sort nodes
def test_find_pages_sorts_and_returns_meta(core_client):
    names = sorted(_name("page") for _ in range(3))
    nodes = [core_client.create_node(n) for n in names]
    try:
        page, meta = core_client.find_nodes(filter={"name": [n for n in names]}, page={"limit": 2, "offset": 0},
                                            sort={"by": "name", "order": "descending"}, meta=True)
        assert [n.name for n in page] == names[::-1][:2]
        assert meta.total == 3 and meta.limit == 2 and meta.offset == 0
    finally:
        for node in nodes:
            core_client.delete_node(node)


# --- errors ------------------------------------------------------------------------------------

def test_hub_api_error_carries_the_hubs_answer(core_client):
    name = _name("dup")
    node = core_client.create_node(name)
    try:
        with pytest.raises(flame_hub.HubAPIError) as caught:
            core_client.create_node(name)
        error = caught.value
        assert error.error_response is not None
        assert error.error_response.status_code in (400, 409)
        assert error.error_response.message
        assert error.error_response.message in str(error)
        assert error.request is not None and error.request.method == "POST"
    finally:
        core_client.delete_node(node)


# --- auth resources: create defaults that scripts rely on ------------------------------------------

def test_a_user_created_1_1_0_style_can_be_renamed(auth_client):
    user = auth_client.create_user(_name("usr"), "usr@example.com")
    try:
        assert user.active is True and user.name_locked is False
        new_name = _name("renamed")
        auth_client.update_user(user, name=new_name)
        assert auth_client.get_user(user.id).name == new_name
    finally:
        auth_client.delete_user(user)


def test_a_client_created_1_1_0_style_logs_in_with_client_auth(hub_env, auth_client):
    realm = _master_realm(auth_client)
    secret = "a-long-client-secret-1"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = auth_client.create_client(_name("cli"), realm, secret=secret, is_confidential=True)
    ignored = [w for w in caught if issubclass(w.category, flame_hub.clients.IgnoredArgumentWarning)]
    # Hub 0.14's authup drops isConfidential (a warning); the old authup takes it
    assert [str(w.message) for w in ignored] == ([
        "create_client(): the Hub 0.14 ignores is_confidential (flame-hub-client 1.1.0 sent it); "
        "it is not sent"] if hub_env.version == "0.14.0" else [])
    try:
        assert client.active is True or hub_env.version != "0.14.0"  # old authup: no such key
        grant = httpx.post(hub_env.auth_url + "token", json={
            "grant_type": "client_credentials", "client_id": str(client.id), "client_secret": secret})
        assert grant.status_code == 200, grant.text  # what 1.1.0's defaults made possible
        client_auth = flame_hub.auth.ClientAuth(client_id=str(client.id), client_secret=secret,
                                                base_url=hub_env.auth_url)
        with flame_hub.AuthClient(base_url=hub_env.auth_url, auth=client_auth) as as_client:
            assert isinstance(as_client.get_realms(), list)
    finally:
        auth_client.delete_client(client)


# --- per-call auth ------------------------------------------------------------------------------

def test_per_call_auth_takes_a_token_string_or_an_auth_object(hub_env, password_auth):
    token = _admin_token(hub_env)
    anonymous = flame_hub.CoreClient(base_url=hub_env.core_url)
    try:
        with pytest.raises(flame_hub.HubAPIError) as caught:
            anonymous.get_nodes()
        assert caught.value.error_response.status_code == 401
        assert isinstance(anonymous.get_nodes(auth=token), list)
        assert isinstance(anonymous.get_nodes(auth=password_auth), list)
        assert isinstance(anonymous.find_nodes(auth=flame_hub.auth.StaticAuth(token)), list)
        assert anonymous.get_node(uuid.uuid4(), auth=token) is None
    finally:
        anonymous.close()
    with flame_hub.CoreClient(base_url=hub_env.core_url, auth=password_auth) as core:
        with pytest.raises(flame_hub.HubAPIError):
            core.get_nodes(auth=None)  # None: this call without authentication


# --- storage: upload and streams ---------------------------------------------------------------

def test_upload_and_stream_generators(storage_client):
    bucket = storage_client.create_bucket(_name("bkt"))
    try:
        files = storage_client.upload_to_bucket(bucket, {"file_name": "hello.txt", "content": b"hello hub"})
        assert [f.name for f in files] == ["hello.txt"]
        chunks = storage_client.stream_bucket_file(files[0], chunk_size=4)
        assert not isinstance(chunks, (bytes, list))  # a generator, as in 1.1.0
        assert b"".join(chunks) == b"hello hub"
        tarball = b"".join(storage_client.stream_bucket_tarball(bucket))
        assert b"hello hub" in tarball
        assert storage_client.get_bucket_file(files[0].id).name == "hello.txt"
        storage_client.delete_bucket_file(files[0])
        assert storage_client.get_bucket_file(files[0].id) is None
    finally:
        storage_client.delete_bucket(bucket)


# --- core: analyses with 1.1.0's enums ----------------------------------------------------------

@pytest.mark.era("0.14.0")  # Hub 0.8 has no image command arguments on analyses
def test_create_analysis_sends_empty_command_arguments(core_client):
    project = core_client.create_project(_name("prj"))
    analysis = core_client.create_analysis(project)
    try:
        assert analysis.image_command_arguments == []  # 1.1.0 sends [] when none are given
    finally:
        core_client.delete_analysis(analysis)
        core_client.delete_project(project)


@pytest.mark.needs("broker", eras=("0.14.0",))  # storage creates the buckets, told by the broker
def test_analysis_buckets_by_analysis_bucket_type(core_client):
    project = core_client.create_project(_name("prj"))
    analysis = core_client.create_analysis(project)
    try:
        buckets = core_client.find_analysis_buckets(
            filter={"analysis_id": analysis.id, "type": AnalysisBucketType.CODE})
        # Hub 0.14 creates an analysis's three buckets on its own (one CODE); 0.8.5 creates none
        # (hub-recordings 0.8.5 examples 113, 120)
        assert len(buckets) == (0 if core_client.dialect.catalog_era == "0.8.5" else 1)
        for bucket in buckets:
            assert bucket.type == AnalysisBucketType.CODE == "CODE"
    finally:
        core_client.delete_analysis(analysis)
        core_client.delete_project(project)
