"""The peer's side of the peer column: runs workloads with flame-hub-client 1.1.0 in its own venv.

1.1.0 shares our distribution name (``flame-hub-client``, import ``flame_hub``), so it cannot be
imported beside ours: ``benchmarks._peer`` starts this script with the peer venv's Python, as a
plain script (its folder, not the repository, is first on ``sys.path``, so ``import flame_hub``
finds the venv's 1.1.0). It imports only the standard library, ``httpx2`` (what 1.1.0 is built
on), 1.1.0 and :mod:`_kinds`.

Protocol: one JSON object per line on stdin, one answer per line on stdout.

- ``{"op": "hello"}`` -> the versions in the venv and whether it has an async client;
- ``{"op": "run", "workload": "list"|"get"|"first"|"raw-list"|"raw-get", "url": gateway,
  "username", "password", "page_size", "ids", "params"}`` -> ``{"records", "wall", "cpu",
  "requests"}``: the run timed here (wall: ``perf_counter``, CPU: this process's
  ``process_time``), garbage collected first, as ``benchmarks._measure.measure`` does in the
  benchmark process;
- anything failing -> ``{"error": "..."}``.

The workloads are what a 1.1.0 script writes: list every node by paging ``find_nodes`` with
``meta=True`` until ``meta.total``, sorted by ``created_at`` as ours and the floor are (a stable
order across pages; unsorted, the fake Hub answers much faster, which would flatter the peer);
``get_node(id)`` per id; default ``PasswordAuth`` + ``CoreClient`` and one ``find_nodes``.
Listing and gets share one SSL context and count their
requests with a transport wrapper, as the benchmark's own runs do. ``raw-list`` and ``raw-get``
are the benchmark's floor written with httpx2 instead of httpx (same requests), to tell 1.1.0's
own cost from its HTTP library's.
"""

from __future__ import annotations

import gc
import json
import platform
import ssl
import sys
import time
import traceback
from collections import Counter
from importlib import metadata
from typing import Any

import httpx2

import flame_hub

import _kinds

_SSL = ssl.create_default_context()


class Counting(httpx2.BaseTransport):
    """Counts each request by kind (``_kinds.kind``) before sending it."""

    def __init__(self, counts: Counter) -> None:
        self._inner = httpx2.HTTPTransport(verify=_SSL)
        self._counts = counts

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        self._counts[_kinds.kind(request.method, request.url.path, request.url.query)] += 1
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def _clients(msg: dict[str, Any], counts: Counter) -> tuple[Any, list[Any]]:
    """A 1.1.0 ``CoreClient`` on an ``httpx2.Client`` whose auth logs in through its own client."""
    token_http = httpx2.Client(base_url=msg["url"] + "auth/", transport=Counting(counts))
    auth = flame_hub.auth.PasswordAuth(msg["username"], msg["password"], client=token_http)
    http = httpx2.Client(base_url=msg["url"] + "core/", auth=auth, transport=Counting(counts))
    return flame_hub.CoreClient(client=http), [http, token_http]


def list_all(msg: dict[str, Any], counts: Counter) -> int:
    core, closing = _clients(msg, counts)
    try:
        n = offset = 0
        while True:
            nodes, meta = core.find_nodes(page={"limit": msg["page_size"], "offset": offset},
                                          sort={"by": "created_at"}, meta=True)
            for _node in nodes:
                n += 1
            offset += len(nodes)
            if not nodes or offset >= meta.total:
                return n
    finally:
        for client in closing:
            client.close()


def get_each(msg: dict[str, Any], counts: Counter) -> int:
    core, closing = _clients(msg, counts)
    try:
        return sum(1 for ident in msg["ids"] if core.get_node(ident) is not None)
    finally:
        for client in closing:
            client.close()


def first(msg: dict[str, Any], counts: Counter) -> int:
    """Default clients (each builds its own httpx2 client and SSL context); requests not counted."""
    auth = flame_hub.auth.PasswordAuth(msg["username"], msg["password"], base_url=msg["url"] + "auth/")
    core = flame_hub.CoreClient(base_url=msg["url"] + "core/", auth=auth)
    try:
        return len(core.find_nodes(page={"limit": 1}))
    finally:
        core.close()


def raw_list(msg: dict[str, Any], counts: Counter) -> int:
    """Raw httpx2 + json paging with the benchmark floor's parameters: what 1.1.0's HTTP library
    costs by itself (the floor of the benchmark process uses httpx)."""
    with httpx2.Client(transport=Counting(counts)) as http:
        headers = _token(http, msg)
        n = offset = 0
        while True:
            pairs = [*map(tuple, msg["params"]), ("page[limit]", str(msg["page_size"])), ("page[offset]", str(offset))]
            response = http.get(msg["url"] + "core/nodes", params=pairs, headers=headers)
            response.raise_for_status()
            body = json.loads(response.content)
            for _record in body["data"]:
                n += 1
            offset += len(body["data"])
            if not body["data"] or offset >= body["meta"]["total"]:
                return n


def raw_get(msg: dict[str, Any], counts: Counter) -> int:
    """Raw httpx2 + json: ``GET core/nodes/<id>`` with the floor's query, per id."""
    with httpx2.Client(transport=Counting(counts)) as http:
        headers = _token(http, msg)
        n = 0
        for ident in msg["ids"]:
            response = http.get(f"{msg['url']}core/nodes/{ident}", params=[*map(tuple, msg["params"])],
                                headers=headers)
            response.raise_for_status()
            if json.loads(response.content)["data"] is not None:
                n += 1
        return n


def _token(http: httpx2.Client, msg: dict[str, Any]) -> dict[str, str]:
    response = http.post(msg["url"] + "auth/token", json={"grant_type": "password", "username": msg["username"],
                                                          "password": msg["password"]})
    response.raise_for_status()
    return {"Authorization": f"Bearer {json.loads(response.content)['access_token']}"}


WORKLOADS = {"list": list_all, "get": get_each, "first": first, "raw-list": raw_list, "raw-get": raw_get}


def hello() -> dict[str, Any]:
    versions = {}
    for dist in ("flame-hub-client", "httpx2", "pydantic"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {"python": platform.python_version(), "versions": versions,
            "async": hasattr(flame_hub, "AsyncCoreClient")}


def run(msg: dict[str, Any]) -> dict[str, Any]:
    workload = WORKLOADS[msg["workload"]]
    counts: Counter = Counter()
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    records = workload(msg, counts)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {"records": records, "wall": wall, "cpu": cpu, "requests": dict(sorted(counts.items()))}


def main() -> int:
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
            answer = hello() if msg["op"] == "hello" else run(msg)
        except Exception as exc:  # reported to the benchmark process, which raises it there
            answer = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-3000:]}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
