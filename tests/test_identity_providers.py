"""``create_identity_provider()`` sends the protocol attributes the Hub's second validation stage
requires (recordings 201-213, legacy 301-313): the keys of the create's ``one_of`` branches are
optional arguments, taken from the registry."""

from __future__ import annotations

import inspect
import uuid

import pytest

import flame_hub
from flame_hub.errors import HubAPIError, InvalidArgument
from flame_hub.models import request_model
from flame_hub.models._generate import python_attr
from flame_hub.resources import ERAS, get_resource

RES = get_resource("identity-providers")


def _name() -> str:
    return "idp" + uuid.uuid4().hex[:12]


def _base(era: str) -> dict:
    """name, enabled (and the slug 0.8.5 requires)."""
    name = _name()
    return {"name": name, "enabled": True, **({"slug": name} if "slug" in RES.era(era).create_required else {})}


@pytest.fixture
def era(hub_env) -> str:
    return hub_env.dialect.catalog_era


def test_every_branch_key_of_every_era_is_an_argument():
    params = inspect.signature(flame_hub.AuthClient.create_identity_provider).parameters
    for era in ERAS:
        spec = RES.era(era)
        keys = {k for b in spec.create_one_of["branches"] for part in ("required", "optional") for k in b[part]}
        assert keys and {python_attr(k) for k in keys} <= set(params), era
        for key in spec.create_branch_fields:  # optional: the chosen branch decides what is needed
            assert params[python_attr(key)].default is flame_hub.types.UNSET
    assert set(RES.era("0.14.0").create_branch_fields) >= {"url", "user", "password", "clientId",
                                                           "tokenUrl", "authorizeUrl", "clientSecret"}


def test_secrets_of_the_protocol_attributes_stay_out_of_the_repr():
    body = request_model(RES, "create")(name="x", enabled=True, protocol="ldap", url="ldap://h",
                                        user="cn=admin", password="hunter22", client_secret="s3cr3t!")
    assert "hunter22" not in repr(body) and "s3cr3t!" not in repr(body)
    assert "cn=admin" in repr(body)


def test_ldap_create_sends_url_user_password(auth_client, era):
    created = auth_client.create_identity_provider(
        **_base(era), protocol="ldap", url="ldap://ldap.example.invalid:389",
        user="cn=admin,dc=example,dc=invalid", password="bind-secret")
    try:
        assert created.protocol == "ldap"
        fetched = auth_client.get_identity_provider(created.id)
        assert fetched is not None and fetched.id == created.id
        assert getattr(created, "url") == "ldap://ldap.example.invalid:389"
        assert getattr(created, "user") == "cn=admin,dc=example,dc=invalid"
    finally:
        auth_client.delete_identity_provider(created.id)


@pytest.mark.parametrize("protocol", ["oauth2", "oidc"])
def test_oauth_create_sends_client_and_urls(auth_client, era, protocol):
    created = auth_client.create_identity_provider(
        **_base(era), protocol=protocol, client_id="rec-client",
        token_url="https://idp.example.invalid/token", authorize_url="https://idp.example.invalid/authorize")
    try:
        assert created.protocol == protocol
        assert auth_client.get_identity_provider(created.id).id == created.id
        found = auth_client.find_identity_providers(filter={"name": created.name})
        assert [r.id for r in found] == [created.id]
    finally:
        auth_client.delete_identity_provider(created.id)


def test_without_the_branch_attributes_the_hub_refuses(auth_client, era):
    with pytest.raises(HubAPIError) as info:
        auth_client.create_identity_provider(**_base(era), protocol="ldap")
    assert info.value.error_response.status_code == 400


@pytest.mark.era("0.14.0")
def test_a_branch_value_is_checked_before_sending(auth_client, fake_hub):
    with pytest.raises(InvalidArgument, match="argument 'start_tls' expects"):
        auth_client.create_identity_provider(name=_name(), enabled=True, protocol="ldap", url="ldap://h",
                                             user="cn=a", password="pw", start_tls="yes")
    assert not [r for r in fake_hub.requests if r.path.endswith("/identity-providers")]


@pytest.mark.era("0.8.5")
def test_a_branch_key_the_era_lacks_is_refused(auth_client):
    with pytest.raises(ValueError, match="does not accept start_tls"):
        auth_client.create_identity_provider(**_base("0.8.5"), protocol="ldap", url="ldap://h",
                                             user="cn=a", password="pw", start_tls=True)
