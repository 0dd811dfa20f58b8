"""``flame_hub._flow.build_request``: the query of plain string pairs is encoded by us (one URL
parse instead of three) and must give exactly the request httpx builds from ``params=``."""

from __future__ import annotations

import httpx
import pytest

from flame_hub._flow import build_request

PAIRS = [
    [],
    [("page[limit]", "50"), ("page[offset]", "0")],
    [("filter[name]", "~lab a+b"), ("sort", "-createdAt"), ("include", "registry,registryProject")],
    [("filter[name]", "ümlaut €/?#&=%20"), ("fields", "+id,-name"), ("filter[id]", ">6454d708-a2c8")],
    [("filter", "and(name.eq('x y'),realmId.eq(null))"), ("a", ""), ("a", "twice")],
    [("emoji", "🙂"), ("tab", "a\tb"), ("semicolon", "a;b"), ("bracket]", "[x]"), ("tilde", "~x~")],
]


@pytest.mark.parametrize("pairs", PAIRS)
@pytest.mark.parametrize("base", ["http://hub.test/core/", "https://hub.test:8443/gateway/core/"])
def test_the_query_is_what_httpx_makes_of_params(pairs, base):
    with httpx.Client(base_url=base) as client:
        ours = build_request(client, "GET", "nodes", params=pairs, timeout=httpx.Timeout(3.0))
        theirs = client.build_request("GET", base + "nodes", params=pairs, timeout=httpx.Timeout(3.0))
    assert ours.url == theirs.url
    assert ours.url.raw_path == theirs.url.raw_path  # the bytes on the request line
    assert ours.headers == theirs.headers and ours.extensions == theirs.extensions


@pytest.mark.parametrize("params", [
    {"page[limit]": "50"},  # a mapping
    [("page[limit]", 50)],  # a value that is not a str (httpx spells it)
    [("flag", True)],
    [["a", "b"]],  # a list, not a tuple
])
def test_anything_but_plain_string_pairs_is_left_to_httpx(params):
    with httpx.Client(base_url="http://hub.test/core/") as client:
        ours = build_request(client, "GET", "nodes", params=params)
        theirs = client.build_request("GET", "http://hub.test/core/nodes", params=params)
    assert ours.url == theirs.url


def test_a_client_with_default_params_gets_httpx_merge():
    with httpx.Client(base_url="http://hub.test/core/", params={"tenant": "t1"}) as client:
        ours = build_request(client, "GET", "nodes", params=[("page[limit]", "50")])
        theirs = client.build_request("GET", "http://hub.test/core/nodes", params=[("page[limit]", "50")])
    assert ours.url == theirs.url
    assert "tenant=t1" in str(ours.url) and "page%5Blimit%5D=50" in str(ours.url)


def test_an_absolute_url_with_a_query_of_its_own_is_left_to_httpx():
    with httpx.Client(base_url="http://hub.test/core/") as client:
        url = "http://other.test/x?keep=1"
        ours = build_request(client, "GET", url, params=[("a", "b")])
        theirs = client.build_request("GET", url, params=[("a", "b")])
    assert ours.url == theirs.url
