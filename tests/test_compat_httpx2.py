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


def test_auth_flows_take_an_httpx2_token_client_as_1_1_0_did(hub_env):
    """1.1.0 scripts give the auth flows their httpx2 client for token requests: they go to
    that client's base URL with its timeout (a base_url given as well is ignored, as in 1.1.0,
    with the clients' warning when it differs)."""
    token_client = httpx2.Client(base_url=hub_env.auth_url, timeout=7)
    with pytest.warns(UserWarning, match="base_url is ignored"):
        auth = flame_hub.auth.PasswordAuth(hub_env.admin_username, hub_env.admin_password,
                                           "http://127.0.0.1:9/auth/", client=token_client)
    assert auth._token_timeout.read == 7
    core = flame_hub.CoreClient(base_url=hub_env.core_url, auth=auth)
    try:
        assert isinstance(core.get_nodes(), list)  # logged in through the client's base URL
    finally:
        core.close()
        auth.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same base URL: nothing ignored, nothing to warn about
        flows = [cls("someone", "wrong", hub_env.auth_url.rstrip("/"), client=token_client)
                 for cls in (flame_hub.auth.ClientAuth, flame_hub.auth.RobotAuth)]
    for flow in flows:
        with pytest.raises(flame_hub.HubAPIError) as refused:  # the Hub refused: it was asked
            flow._sync_token()
        assert str(refused.value.url).startswith(hub_env.auth_url)
        flow.close()
    token_client.close()
