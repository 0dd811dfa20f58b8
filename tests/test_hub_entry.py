"""flame_hub.Hub / AsyncHub (one auth, one pool, three clients) and configuration from the
environment and .env (explicit arguments first, then the environment, then .env, then the public
Hub with one log line)."""

from __future__ import annotations

import logging
import uuid

import anyio
import pytest

from _jwt import jwt

import flame_hub
from flame_hub import _config
from flame_hub.testing import FakeHub

ENV = tuple(_config.ENV_VARS.values())
SECRET = "s3cret-do-not-show"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No FLAME_HUB_* from the shell, a directory without .env, and a fresh 'logged once'."""
    for var in ENV:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    _config._fallback_logged.clear()


@pytest.fixture(scope="module")
def fake():
    with FakeHub() as hub:
        yield hub


def _paths(fake, method=None):
    return [r.path for r in fake.requests if method is None or r.method == method]


def _use_all_three(hub):
    assert hub.auth.get_realm_by_name("master").name == "master"
    hub.core.nodes.count()
    hub.storage.get_buckets()


# --- Hub / AsyncHub ---------------------------------------------------------------------------

def test_hub_serves_three_services_with_one_token_grant(fake):
    fake.clear_requests()
    with flame_hub.Hub(fake.url, username="admin", password="start123") as hub:
        assert (hub.auth.base_url, hub.core.base_url, hub.storage.base_url) == (
            fake.auth_url, fake.core_url, fake.storage_url)
        assert isinstance(hub.core, flame_hub.CoreClient) and isinstance(hub.auth, flame_hub.AuthClient)
        _use_all_three(hub)
        assert hub.auth.session.client.auth is hub.core.session.client.auth is hub.credentials
    assert _paths(fake, "POST").count("/auth/token") == 1
    assert {"/auth/realms/master", "/core/nodes", "/storage/buckets"} <= set(_paths(fake, "GET"))


def test_hub_clients_share_one_connection_pool(fake):
    with flame_hub.Hub(fake.url, username="admin", password="start123") as hub:
        pools = {id(c.session.client._transport.inner) for c in hub.clients}
        assert len(pools) == 1
        pool = hub.core.session.client._transport.inner
        hub.core.close()                       # a client closing leaves the hub's pool open
        hub.storage.get_buckets()
    assert pool._pool.connections == []       # the hub closed it


def test_async_hub_serves_three_services_with_one_token_grant(fake):
    fake.clear_requests()

    async def main():
        async with flame_hub.AsyncHub(fake.url, username="admin", password="start123") as hub:
            assert isinstance(hub.storage, flame_hub.AsyncStorageClient)
            realm, count, buckets = await hub.auth.get_realm_by_name("master"), \
                await hub.core.nodes.count(), await hub.storage.get_buckets()
            assert realm.name == "master" and count >= 0 and isinstance(buckets, list)
            pools = {id(c.session.client._transport.inner) for c in hub.clients}
            assert len(pools) == 1

    anyio.run(main)
    assert _paths(fake, "POST").count("/auth/token") == 1


def test_hub_over_a_given_transport(monkeypatch):
    fake = FakeHub()                            # no server: its in-process transport
    transport = fake.transport()
    with flame_hub.Hub("http://hub.test/", username="admin", password="start123", transport=transport) as hub:
        _use_all_three(hub)
    assert _paths(fake, "POST").count("/auth/token") == 1

    async def main():
        async with flame_hub.AsyncHub("http://hub.test/", token=jwt(), transport=transport) as ahub:
            with pytest.raises(flame_hub.Unauthorized):
                await ahub.core.nodes.count()

    anyio.run(main)
    with flame_hub.Hub("http://hub.test/", username="admin", password="start123", transport=transport) as hub:
        assert hub.core.nodes.count() >= 0      # the hub did not close the transport it was given


def test_hub_on_every_era(hub_env):
    # a deployed Hub may be configured per service (hub_env.url is None then)
    urls = {f"{s}_url": getattr(hub_env, f"{s}_url") for s in ("auth", "core", "storage")}
    name = f"hub-entry-{uuid.uuid4().hex[:8]}"  # a deployed Hub keeps what earlier runs left
    with flame_hub.Hub(hub_env.url, username=hub_env.admin_username,
                       password=hub_env.admin_password, **({} if hub_env.url else urls)) as hub:
        node = hub.core.create_node(name=name)
        try:
            assert hub.core.nodes.get(name=name).id == node.id
            assert hub.auth.get_realm_by_name("master") is not None
        finally:
            hub.core.delete_node(node)


def test_per_service_urls_win_over_the_gateway(fake):
    with flame_hub.Hub("http://unused.invalid/", storage_url=fake.storage_url.rstrip("/"),
                       token=jwt()) as hub:
        assert hub.storage.base_url == fake.storage_url
        assert hub.core.base_url == "http://unused.invalid/core/"
        assert hub.url == "http://unused.invalid/"
    with flame_hub.Hub(auth_url=fake.auth_url, core_url=fake.core_url, storage_url=fake.storage_url) as hub:
        assert hub.url is None and hub.core.base_url == fake.core_url and hub.credentials is None


def test_hub_credentials_kinds(fake):
    with flame_hub.Hub(fake.url, client_id="system", client_secret="start123") as hub:
        assert isinstance(hub.credentials, flame_hub.auth.ClientAuth)
        assert hub.core.nodes.count() >= 0
    with flame_hub.Hub(fake.url, token=jwt()) as hub:
        assert isinstance(hub.credentials, flame_hub.auth.StaticAuth)
    given = flame_hub.auth.PasswordAuth("admin", "start123", base_url=fake.auth_url)
    with flame_hub.Hub(fake.url, auth=given) as hub:
        assert hub.credentials is given and hub.core.nodes.count() >= 0


def test_hub_options_reach_every_client(fake):
    with flame_hub.Hub(fake.url, token=jwt(), hub_version="0.14.0", max_retries=5, timeout=7) as hub:
        for client in hub.clients:
            assert client.hub_version == "0.14.0" and client.session.max_retries == 5
            assert client.session.client.timeout.read == 7


def test_secrets_stay_out_of_reprs_and_errors(fake):
    with flame_hub.Hub(fake.url, username="admin", password=SECRET) as hub:
        assert SECRET not in repr(hub) and "admin" in repr(hub)
        assert SECRET not in repr(hub.config)
        with pytest.raises(flame_hub.HubAPIError) as caught:
            hub.core.nodes.count()
        assert SECRET not in str(caught.value)
    for kwargs, message in (({"password": SECRET}, "username is missing"),
                            ({"username": "a", "password": "b", "token": SECRET}, "one kind of credentials"),
                            ({"client_secret": SECRET}, "client_id is missing")):
        with pytest.raises(ValueError, match=message) as caught:
            flame_hub.Hub(fake.url, **kwargs)
        assert SECRET not in str(caught.value)


# --- the environment -----------------------------------------------------------------------------

def test_env_only_configuration(fake, monkeypatch):
    monkeypatch.setenv("FLAME_HUB_URL", fake.url)
    monkeypatch.setenv("FLAME_HUB_USERNAME", "admin")
    monkeypatch.setenv("FLAME_HUB_PASSWORD", "start123")
    with flame_hub.Hub() as hub:
        assert hub.url == fake.url and "FLAME_HUB_URL (environment)" in hub.config.sources["urls"]
        _use_all_three(hub)
    with flame_hub.CoreClient() as core:       # a client without base_url reads it too
        assert core.base_url == fake.core_url
        assert isinstance(core.session.client.auth, flame_hub.auth.PasswordAuth)
        assert core.nodes.count() >= 0


def test_env_per_service_urls_and_token(fake, monkeypatch):
    monkeypatch.setenv("FLAME_HUB_AUTH_URL", fake.auth_url)
    monkeypatch.setenv("FLAME_HUB_CORE_URL", fake.core_url)
    monkeypatch.setenv("FLAME_HUB_STORAGE_URL", fake.storage_url)
    monkeypatch.setenv("FLAME_HUB_TOKEN", jwt())
    with flame_hub.Hub() as hub:
        assert hub.url is None and hub.storage.base_url == fake.storage_url
        assert isinstance(hub.credentials, flame_hub.auth.StaticAuth)
    monkeypatch.delenv("FLAME_HUB_AUTH_URL")
    with pytest.raises(ValueError, match="FLAME_HUB_AUTH_URL"):
        flame_hub.Hub()
    with flame_hub.CoreClient() as core:       # a core client needs only its own URL
        assert core.base_url == fake.core_url


def test_explicit_arguments_win_over_the_environment(fake, monkeypatch):
    monkeypatch.setenv("FLAME_HUB_URL", "http://from-env.invalid/")
    monkeypatch.setenv("FLAME_HUB_STORAGE_URL", "http://from-env.invalid/s/")
    monkeypatch.setenv("FLAME_HUB_TOKEN", jwt("env"))
    with flame_hub.Hub(fake.url, username="admin", password="start123") as hub:
        # URLs and credentials are groups: the argument hides the environment's whole group
        assert hub.storage.base_url == fake.storage_url
        assert isinstance(hub.credentials, flame_hub.auth.PasswordAuth)
        assert hub.config.sources == {"urls": "arguments", "credentials": "arguments"}
        _use_all_three(hub)
    with flame_hub.CoreClient(fake.core_url) as core:
        assert core.session.client.auth is None     # base_url given: nothing from the environment
    with flame_hub.CoreClient(auth=jwt("explicit")) as core:
        assert core.base_url == "http://from-env.invalid/core/"
        assert isinstance(core.session.client.auth, flame_hub.auth.StaticAuth)
        assert core.session.client.auth._token == jwt("explicit")


def test_dotenv_is_read_when_asked_and_the_environment_wins(fake, monkeypatch, tmp_path):
    (tmp_path / ".env").write_text(f"FLAME_HUB_URL={fake.url}\nFLAME_HUB_USERNAME=admin\n"
                                   f"FLAME_HUB_PASSWORD=wrong\nOTHER=x\n")
    with flame_hub.Hub() as hub:               # no dotenv=: the file is not read
        assert hub.config.is_public and hub.credentials is None
    monkeypatch.setenv("FLAME_HUB_PASSWORD", "start123")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")         # found from the current directory upwards
    with flame_hub.Hub.from_env() as hub:
        assert hub.url == fake.url
        assert hub.config.sources["urls"] == "FLAME_HUB_URL (.env)"
        assert "FLAME_HUB_PASSWORD (environment)" in hub.config.sources["credentials"]
        _use_all_three(hub)
    with flame_hub.Hub(dotenv=tmp_path / ".env", url="http://arg.invalid/") as hub:
        assert hub.url == "http://arg.invalid/"
    with pytest.raises(FileNotFoundError, match="no .env file"):
        flame_hub.Hub(dotenv=tmp_path / "missing.env")


def test_public_hub_fallback_is_logged_once(caplog):
    caplog.set_level(logging.WARNING, logger="flame_hub.config")
    with flame_hub.CoreClient() as core, flame_hub.StorageClient() as storage:
        assert core.base_url == "https://core.privateaim.dev/"
        assert storage.base_url == "https://storage.privateaim.dev/"
    with flame_hub.Hub() as hub:
        assert hub.config.is_public and hub.core.base_url == "https://core.privateaim.dev/"
    lines = [r.getMessage() for r in caplog.records if r.name == "flame_hub.config"]
    assert len(lines) == 1, lines
    assert "public Hub" in lines[0] and "FLAME_HUB_URL" in lines[0] and lines[0].startswith("core client")


def test_configured_clients_do_not_log_the_fallback(fake, monkeypatch, caplog):
    caplog.set_level(logging.WARNING, logger="flame_hub.config")
    monkeypatch.setenv("FLAME_HUB_URL", fake.url)
    with flame_hub.CoreClient(), flame_hub.Hub():
        pass
    with flame_hub.CoreClient("http://explicit.invalid/core/"):
        pass
    assert not [r for r in caplog.records if r.name == "flame_hub.config"]
