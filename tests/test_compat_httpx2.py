"""flame-hub-client 1.1.0 is built on httpx2; its scripts put its auth flows into an
``httpx2.Client`` and hand its clients one. Both work here when httpx2 is installed (it is a
test dependency; ``flame_hub`` itself does not need it)."""

from __future__ import annotations

import warnings

import pytest

import flame_hub

httpx2 = pytest.importorskip("httpx2", reason="httpx2 (flame-hub-client 1.1.0's HTTP library) is not installed")


def test_auth_flows_work_inside_an_httpx2_client(hub_env, password_auth):
    with httpx2.Client(auth=password_auth) as client:
        answer = client.get(hub_env.core_url + "nodes")
    assert answer.status_code == 200 and "data" in answer.json()
    with httpx2.Client(auth=flame_hub.auth.StaticAuth(_token(hub_env))) as client:
        assert client.get(hub_env.core_url + "nodes").status_code == 200


def _token(hub_env) -> str:
    with httpx2.Client() as client:
        answer = client.post(hub_env.auth_url + "token", json={
            "grant_type": "password", "username": hub_env.admin_username,
            "password": hub_env.admin_password})
    return answer.json()["access_token"]


def test_clients_take_an_httpx2_client_as_1_1_0_did(hub_env, password_auth):
    given = httpx2.Client(base_url=hub_env.core_url, auth=password_auth, timeout=7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to warn about: only client= was given
        core = flame_hub.CoreClient(client=given)
    try:
        assert core.base_url == hub_env.core_url
        assert isinstance(core.get_nodes(), list)
        assert core.get_node("497dcba3-ecbf-4587-a2dd-5eb0665e6880") is None
    finally:
        core.close()
        given.close()
    with pytest.warns(UserWarning, match="base_url is ignored"):
        flame_hub.AuthClient("http://elsewhere.test/auth/", client=httpx2.Client(base_url=hub_env.auth_url)).close()
