"""Errors for the commonest mistakes say what to do (issue 15, item 4): a refused login is one
class (AuthenticationError) naming who tried, never the secret; a 404 from the token endpoint or a
service's own route shows the base URL the client should have; a connection error names the
user's call, the URL, the attempts and what to check; a missing extra names its pip line."""

from __future__ import annotations

import re
import socket
import sys

import httpx
import pytest

from _jwt import jwt

import flame_hub
from flame_hub._responses import suggest_base_url
from flame_hub.errors import (AuthenticationError, BadRequest, HubAPIError, HubConnectionError,
                              NotFound, Unauthorized)
from flame_hub.testing import FakeHub

SECRET = "not-the-password-9f2c"


def test_a_wrong_password_is_one_catchable_class_naming_the_user_not_the_password(hub_env):
    auth = flame_hub.auth.PasswordAuth(hub_env.admin_username, SECRET, base_url=hub_env.auth_url)
    with flame_hub.CoreClient(base_url=hub_env.core_url, auth=auth) as core:
        with pytest.raises(AuthenticationError) as info:
            core.get_nodes()
    error = info.value
    # 1.1.0 scripts catch HubAPIError; earlier 2.0 scripts BadRequest; what it means: Unauthorized
    assert isinstance(error, (HubAPIError, BadRequest, Unauthorized, flame_hub.AuthenticationError))
    assert issubclass(AuthenticationError, BadRequest) and issubclass(AuthenticationError, Unauthorized)
    assert error.status_code == 400 and error.code == "invalid_credentials"  # both eras (003, legacy 005)
    text = str(error)
    assert f"user '{hub_env.admin_username}' could not log in: The user credentials are invalid." in text
    assert text.endswith("— check the username and password given to PasswordAuth")
    assert text.startswith(f"400 Bad Request: POST {hub_env.auth_url}token: ")
    assert SECRET not in text and SECRET not in repr(error)


@pytest.mark.era("0.14.0")
def test_a_wrong_client_secret_is_an_authentication_error_too(hub_env):
    """authup answers it 401 ``invalid_client`` (additions 284), not 400."""
    auth = flame_hub.auth.ClientAuth("system", SECRET, base_url=hub_env.auth_url)
    with flame_hub.CoreClient(base_url=hub_env.core_url, auth=auth) as core:
        with pytest.raises(Unauthorized) as info:
            core.nodes.count()
    assert type(info.value) is AuthenticationError and info.value.status_code == 401
    assert str(info.value) == (
        f"401 Unauthorized: POST {hub_env.auth_url}token: client 'system' could not log in: Client "
        "authentication failed [invalid_client] — check the client_id and client_secret given to ClientAuth")
    assert SECRET not in str(info.value)


def test_robots_on_current_authup_raise_an_authentication_error_pointing_at_client_auth():
    hub = FakeHub()
    http = httpx.Client(transport=hub.transport())
    auth = flame_hub.auth.RobotAuth("1b5a6f8e-1f7e-4a55-9f0a-3f3b2b6b8a11", SECRET, base_url=hub.auth_url,
                                    client=http)
    core = flame_hub.CoreClient(base_url=hub.core_url, auth=auth, transport=hub.transport())
    with pytest.raises(AuthenticationError, match=r"Use flame_hub\.auth\.ClientAuth\(client_id=") as info:
        core.get_nodes()
    assert info.value.status_code == 400 and SECRET not in str(info.value)


@pytest.mark.parametrize("auth_path", ["core/", "", "storage/"])
def test_a_404_from_the_token_endpoint_shows_the_auth_base_url(auth_path):
    with FakeHub() as hub:
        auth = flame_hub.auth.PasswordAuth("admin", "start123", base_url=hub.url + auth_path)
        with flame_hub.CoreClient(base_url=hub.core_url, auth=auth) as core, pytest.raises(NotFound) as info:
            core.get_nodes()
        assert str(info.value) == (
            f"404 Not Found: POST {hub.url}{auth_path}token: Not Found — no auth service answers at "
            f"{hub.url}{auth_path}: the base_url of PasswordAuth must be the auth service's base URL, "
            f"e.g. {hub.auth_url} behind the Hub's gateway")


@pytest.mark.parametrize("base_path", ["", "auth/", "api/v1/"])
def test_a_404_from_a_route_every_core_has_shows_the_core_base_url(base_path):
    with FakeHub() as hub:
        auth = flame_hub.auth.PasswordAuth("admin", "start123", base_url=hub.auth_url)
        with flame_hub.CoreClient(base_url=hub.url + base_path, auth=auth, hub_version="0.14.0") as core:
            for call in (core.get_nodes, core.nodes.count, lambda: core.create_node(name="x"),
                         lambda: core.find_nodes(filter={"name": "x"})):
                with pytest.raises(NotFound) as info:
                    call()
                expected = "api/v1/core/" if base_path == "api/v1/" else "core/"
                assert str(info.value).endswith(
                    f" — no core service answers at {hub.url}{base_path} (it would have this route): the "
                    f"client's base_url must be the core service's base URL, e.g. {hub.url}{expected} "
                    "behind the Hub's gateway")
                assert str(info.value).startswith("404 Not Found: ")
            # a 404 on a record route stays what it was: get_<x> answers None, without a hint
            assert core.get_node("4b3c8f5e-8d53-4c6f-9f9e-1d2b3c4d5e6f") is None


def test_a_404_about_a_record_from_a_create_route_has_no_base_url_hint():
    """additions 237: creating an analysis node for a node outside the project is a 404 with a
    ``code`` (a missing record), not a missing route."""
    body = {"statusCode": 404, "code": "entity_not_found", "issues": [],
            "message": "The referenced node is not part of the analysis project."}
    transport = httpx.MockTransport(lambda request: httpx.Response(404, json=body))
    core = flame_hub.CoreClient(base_url="http://hub/core/", auth=None, transport=transport, hub_version="0.14.0")
    with pytest.raises(NotFound) as info:
        core.create_analysis_node(analysis_id="4b3c8f5e-8d53-4c6f-9f9e-1d2b3c4d5e6f",
                                  node_id="5b3c8f5e-8d53-4c6f-9f9e-1d2b3c4d5e6f")
    assert info.value.hint is None
    assert str(info.value) == ("404 Not Found: POST http://hub/core/analysis-nodes: The referenced node is not "
                               "part of the analysis project. [entity_not_found]")


def test_a_404_for_an_unknown_record_has_no_base_url_hint(hub_env, core_client):
    with pytest.raises(NotFound) as info:
        core_client.update_node("4b3c8f5e-8d53-4c6f-9f9e-1d2b3c4d5e6f", hidden=True)
    assert info.value.hint is None and "base_url" not in str(info.value)


def test_suggest_base_url_cuts_at_the_service_or_the_route():
    assert suggest_base_url("http://h:1/core/token", "auth") == "http://h:1/auth/"
    assert suggest_base_url("http://user:pw@h/token", "auth") == "http://h/auth/"
    assert suggest_base_url("https://h/hub/storage/x/nodes?a=1", "core") == "https://h/hub/core/"
    assert suggest_base_url("http://h/nodes", "core") == "http://h/core/"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _refusing(client_class, port: int, **kwargs):
    auth = flame_hub.auth.StaticAuth(jwt())
    return client_class(base_url=f"http://127.0.0.1:{port}/core/", auth=auth, max_retries=1, **kwargs)


def _refused(call: str, url: str, port: int) -> str:
    """The message of a refused connection (httpx words the cause per transport)."""
    return (re.escape(f"{call} got no answer from {url} after 2 attempts (ConnectError: ") + r"[^)]+"
            + re.escape(f"). Check that the Hub is running and reachable at http://127.0.0.1:{port}/ and "
                        "that the base URL is right."))


@pytest.mark.skipif(sys.platform != "linux", reason="needs a closed port on 127.0.0.1 that refuses at once")
def test_a_refused_connection_names_the_users_call_not_the_version_request():
    port = _closed_port()
    core = _refusing(flame_hub.CoreClient, port)
    with pytest.raises(HubConnectionError) as info:
        core.get_nodes()  # the first request is the version check GET /core/
    assert re.fullmatch(_refused("CoreClient.get_nodes()", f"http://127.0.0.1:{port}/core/", port), str(info.value))
    assert info.value.attempts == 2 and info.value.call == "CoreClient.get_nodes()"
    with pytest.raises(HubConnectionError) as info:
        core.nodes.filter(hidden=False).count()
    assert str(info.value).startswith(f"CoreClient.nodes.count() got no answer from http://127.0.0.1:{port}/core/ ")
    with pytest.raises(HubConnectionError) as info:
        for _ in core.nodes:
            pass
    assert str(info.value).startswith(f"iterating CoreClient.nodes got no answer from http://127.0.0.1:{port}/core/ ")


@pytest.mark.skipif(sys.platform != "linux", reason="needs a closed port on 127.0.0.1 that refuses at once")
def test_a_refused_connection_shows_the_request_url_once_the_version_is_known():
    port = _closed_port()
    core = _refusing(flame_hub.CoreClient, port, hub_version="0.14.0")
    with pytest.raises(HubConnectionError) as info:
        core.nodes.sort("name").first()
    url = f"http://127.0.0.1:{port}/core/nodes?sort=name&page%5Blimit%5D=1&page%5Boffset%5D=0"
    assert re.fullmatch(_refused("CoreClient.nodes.first()", url, port), str(info.value))


@pytest.mark.skipif(sys.platform != "linux", reason="needs a closed port on 127.0.0.1 that refuses at once")
@pytest.mark.anyio
async def test_async_connection_errors_name_the_call_too():
    port = _closed_port()
    async with _refusing(flame_hub.AsyncCoreClient, port) as core:
        with pytest.raises(HubConnectionError) as info:
            await core.get_node("4b3c8f5e-8d53-4c6f-9f9e-1d2b3c4d5e6f")
        expected = _refused("AsyncCoreClient.get_node()", f"http://127.0.0.1:{port}/core/", port)
        assert re.fullmatch(expected, str(info.value))
        with pytest.raises(HubConnectionError) as info:
            await core.nodes.list()
        assert str(info.value).startswith("AsyncCoreClient.nodes.list() got no answer from ")


def test_a_connection_error_without_a_call_still_says_what_to_check():
    error = HubConnectionError("ConnectError: refused", method="GET", url="http://u:pw@h:1/core/nodes",
                               attempts=3)
    assert str(error) == ("GET http://h:1/core/nodes: ConnectError: refused (after 3 attempts). Check that "
                          "the Hub is running and reachable at http://h:1/ and that the base URL is right.")


def test_the_fake_hub_server_without_werkzeug_names_the_pip_line(monkeypatch):
    for name in [m for m in sys.modules if m == "werkzeug" or m.startswith("werkzeug.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "werkzeug", None)  # what an environment without it imports
    hub = FakeHub()
    with pytest.raises(ImportError) as info:
        hub.start()
    assert str(info.value) == (
        "the fake Hub's HTTP server needs werkzeug, which comes with the testing extra: pip install "
        "'flame-hub-client[testing]' (FakeHub().transport() works without it)")
    assert isinstance(info.value, ModuleNotFoundError) and info.value.name == "werkzeug"
    assert not hub.running
    with httpx.Client(transport=hub.transport(), base_url=hub.core_url) as http:  # still usable
        assert http.get("").json()["version"] == "0.14.0"
