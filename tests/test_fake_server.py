"""The fake Hub's real HTTP server (werkzeug on 127.0.0.1) and the ``serve`` CLI, with plain httpx."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from flame_hub.testing import FakeHub
from flame_hub.testing.__main__ import build_parser

ADMIN = {"grant_type": "password", "username": "admin", "password": "start123"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served():
    with FakeHub() as hub:
        yield hub


def test_serves_the_three_services_under_the_gateway_prefixes(served):
    assert served.running and served.port > 0
    assert served.url == f"http://127.0.0.1:{served.port}/"
    with httpx.Client() as c:
        assert c.get(served.core_url).json()["version"] == "0.14.0"
        token = c.post(served.auth_url + "token", json=ADMIN).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        node = c.post(served.core_url + "nodes", json={"name": "over-the-wire"}, headers=auth)
        assert node.status_code == 201
        got = c.get(served.core_url + f"nodes/{node.json()['data']['id']}", headers=auth)
        assert got.json()["data"]["name"] == "over-the-wire"
        assert c.get(served.storage_url + "buckets").status_code == 401
        assert c.get(served.url + "nothing").status_code == 404


def test_keeps_connections_alive(served):
    with httpx.Client() as c:
        peers = set()
        for _ in range(3):
            resp = c.get(served.core_url)
            assert resp.http_version == "HTTP/1.1" and resp.headers.get("connection") != "close"
            peers.add(resp.extensions["network_stream"].get_extra_info("client_addr"))
        assert len(peers) == 1


def test_form_and_multipart_bodies_over_the_wire(served):
    with httpx.Client(base_url=served.url) as c:
        token = c.post("auth/token", data=ADMIN).json()["access_token"]
        c.headers["Authorization"] = f"Bearer {token}"
        bucket = c.post("storage/buckets", json={"name": "wire-bucket"}).json()["data"]
        up = c.post(f"storage/buckets/{bucket['id']}/upload",
                    files={"f": ("notes.txt", b"# notes\n", "text/markdown")})
        assert up.status_code == 201
        file_id = up.json()["data"][0]["id"]
        stream = c.get(f"storage/bucket-files/{file_id}/stream")
        # typed by the name, not by the part's type (additions 273)
        assert stream.content == b"# notes\n" and stream.headers["content-type"] == "text/plain; charset=utf-8"


def test_dropped_connection_and_faults_over_the_wire(served):
    served.drop_next("GET", "/core/")
    with httpx.Client() as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.get(served.core_url)
        assert c.get(served.core_url).status_code == 200  # a new connection works again
    served.fail_next("GET", "/core/", status=502)
    with httpx.Client() as c:
        assert c.get(served.core_url).status_code == 502
    served.latency = 0.1
    try:
        started = time.perf_counter()
        httpx.get(served.core_url)
        assert time.perf_counter() - started >= 0.1
    finally:
        served.latency = 0


def test_server_and_transport_share_the_state(served):
    token = httpx.post(served.auth_url + "token", json=ADMIN).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    httpx.post(served.core_url + "projects", json={"name": "shared-state"}, headers=auth)
    with httpx.Client(transport=served.transport(), base_url=served.core_url, headers=auth) as c:
        names = [p["name"] for p in c.get("projects").json()["data"]]
    assert "shared-state" in names
    assert any(r.path == "/core/projects" and r.method == "POST" for r in served.requests)


def test_stop_frees_the_port():
    hub = FakeHub().start()
    port = hub.port
    assert httpx.get(hub.core_url).status_code == 200
    hub.stop()
    assert not hub.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/core/")
    with httpx.Client(transport=hub.transport(), base_url=hub.core_url) as c:  # state remains
        assert c.get("").status_code == 200


def test_cli_arguments_are_validated():
    parser = build_parser()
    args = parser.parse_args(["serve", "--port", "4000", "--latency", "0.5", "--token-ttl", "60"])
    assert (args.port, args.latency, args.token_ttl, args.host) == (4000, 0.5, 60, "127.0.0.1")
    assert (args.rate_limit, args.seed) == (None, [])
    args = parser.parse_args(["serve", "--rate-limit", "100/1", "--seed", "nodes=10", "--seed", "projects=2"])
    assert (args.rate_limit.limit, args.rate_limit.window) == (100, 1.0)
    assert args.seed == [("nodes", 10), ("projects", 2)]
    for bad in (["serve", "--latency", "-1"], ["serve", "--token-ttl", "0"], [],
                ["serve", "--rate-limit", "0"], ["serve", "--rate-limit", "fast"], ["serve", "--seed", "nodes"],
                ["serve", "--seed", "nodes=-1"]):
        with pytest.raises(SystemExit):
            parser.parse_args(bad)


def test_cli_refuses_to_seed_what_the_hub_lacks(capsys):
    from flame_hub.testing.__main__ import main

    assert main(["serve", "--port", "0", "--seed", "bogus=1"]) == 2
    assert main(["serve", "--port", "0", "--seed", "robots=1"]) == 2
    err = capsys.readouterr().err
    assert "unknown Hub resource 'bogus'" in err and "robots does not exist on Hub 0.14.0" in err


def test_cli_serves_in_the_foreground_until_terminated():
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "flame_hub.testing", "serve", "--port", str(port),
                             "--seed", "nodes=120", "--rate-limit", "3/60"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line, line + proc.stderr.read()
        assert "rate limit 3 per 60 s" in line
        base = f"http://127.0.0.1:{port}/"
        resp = httpx.get(base + "core/", timeout=5)
        assert resp.status_code == 200 and resp.json()["version"] == "0.14.0"
        bearer = httpx.post(base + "auth/token", json=ADMIN, timeout=5).json()["access_token"]
        nodes = httpx.get(base + "core/nodes", params={"page[limit]": "1"}, timeout=5,
                          headers={"Authorization": f"Bearer {bearer}"})
        assert nodes.json()["meta"]["total"] == 120  # seeded before serving, not through the limit
        assert [httpx.get(base + "core/", timeout=5).status_code for _ in range(2)] == [200, 429]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode is not None
