"""The fake Hub's gateway merges repeated slashes as the Hub's nginx does (hub-deployment's
nginx.conf keeps nginx's ``merge_slashes on``): scripts written for flame-hub-client 1.1.0 build
URLs as ``f"{auth_base_url}/token"`` with a base URL that already ends in a slash."""

from __future__ import annotations

import httpx
import pytest

import flame_hub


@pytest.fixture
def token(fake_hub) -> str:
    answer = httpx.post(f"{fake_hub.auth_url}/token",  # auth_url ends in "/": ".../auth//token"
                        json={"grant_type": "password", "username": "admin", "password": "start123"})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def test_a_doubled_slash_reaches_the_same_route(fake_hub, token):
    headers = {"Authorization": f"Bearer {token}"}
    plain = httpx.get(f"{fake_hub.core_url}nodes", headers=headers)
    for url in (f"{fake_hub.core_url}/nodes", f"{fake_hub.url}/core//nodes"):
        doubled = httpx.get(url, headers=headers)
        assert doubled.status_code == plain.status_code == 200, url
        assert doubled.json()["data"] == plain.json()["data"]
    assert fake_hub.requests[-1].path.endswith("/core//nodes")  # recorded as sent


def test_a_static_token_from_the_doubled_slash_route_works(fake_hub, token):
    with flame_hub.AuthClient(base_url=fake_hub.auth_url, auth=flame_hub.auth.StaticAuth(token)) as client:
        assert client.get_realm_by_name("master") is not None


def test_an_unknown_route_stays_unknown(fake_hub, token):
    answer = httpx.get(f"{fake_hub.core_url}//no-such-route", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 404
