"""The fake Hub in its own process (``python -m flame_hub.testing serve``), and seeding it.

The benchmark process must measure only client-side work, so the fake Hub runs as a child
process. The serve CLI sets the per-request latency at start (``--latency``); a run with another
latency restarts the server. Nodes are seeded through the Hub's own API with raw httpx
(``POST /core/nodes``, several at a time), unless the CLI offers ``--seed nodes=N``.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from typing import IO

import httpx

from ._workloads import TIMEOUT, Target, token

__all__ = ["HubProcess", "seed_nodes", "node_ids"]

_READY = re.compile(r"serving (http://\S+/)")

#: ``serve --rate-limit`` for the ordinary runs: without it the fake Hub reports the Hub's own
#: 6000 requests per 60 s per address, which a benchmark sending tens of thousands of requests a
#: minute from one address uses up, and our client then (rightly) waits for the window to reset
NO_LIMIT = "1000000000/60"


def _serve_help(python: str) -> str:
    return subprocess.run([python, "-m", "flame_hub.testing", "serve", "--help"], capture_output=True,
                          text=True, timeout=60).stdout


class HubProcess:
    """``python -m flame_hub.testing serve --port 0 --latency <s>`` as a child process.

    ``with HubProcess(latency=0.02, nodes=1000) as hub: hub.target`` — started, seeded with
    ``nodes`` nodes, stopped (SIGINT, then SIGKILL) on exit. ``rate_limit="150/2"`` makes it
    enforce a limit (``serve --rate-limit``).
    """

    def __init__(self, latency: float = 0.0, nodes: int = 0, *, python: str = sys.executable,
                 start_timeout: float = 60.0, seed_workers: int = 16, rate_limit: str | None = NO_LIMIT) -> None:
        if latency < 0:
            raise ValueError(f"latency must be >= 0 seconds, not {latency!r}")
        if nodes < 0:
            raise ValueError(f"nodes must be >= 0, not {nodes!r}")
        self.latency = latency
        self.nodes = nodes
        self.python = python
        self.start_timeout = start_timeout
        self.seed_workers = seed_workers
        #: ``serve --rate-limit`` (e.g. "150/3": 150 requests per 3 s window); default
        #: :data:`NO_LIMIT`; None: the fake Hub's default (the Hub's numbers in the headers)
        self.rate_limit = rate_limit
        #: seconds the seeding took, and how ("cli" or "http")
        self.seed_seconds = 0.0
        self.seed_method = ""
        self._proc: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None
        self._target: Target | None = None

    @property
    def target(self) -> Target:
        if self._target is None:
            raise RuntimeError("the fake Hub is not running")
        return self._target

    def start(self) -> "HubProcess":
        cmd = [self.python, "-m", "flame_hub.testing", "serve", "--port", "0", "--latency", repr(self.latency)]
        help_text = _serve_help(self.python)
        cli_seed = self.nodes > 0 and "--seed" in help_text
        if cli_seed:
            cmd += ["--seed", f"nodes={self.nodes}"]
        if self.rate_limit is not None and "--rate-limit" in help_text:
            cmd += ["--rate-limit", self.rate_limit]
        self._stderr = tempfile.TemporaryFile("w+")
        t0 = time.perf_counter()
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr, text=True,
                                      env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            url = self._wait_ready()
            self._target = Target(url)
            if cli_seed:
                self.seed_method = "cli"
            elif self.nodes:
                self.seed_method = "http"
                seed_nodes(self._target, self.nodes, workers=self.seed_workers)
            self.seed_seconds = time.perf_counter() - t0
        except BaseException:
            self.stop()
            raise
        return self

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) the fake Hub process has used so far, from ``/proc`` (None
        where that is not available): shows when the server, not the client, is the bottleneck."""
        if self._proc is None:
            return None
        try:
            with open(f"/proc/{self._proc.pid}/stat") as fh:
                fields = fh.read().rpartition(")")[2].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def _wait_ready(self) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self._proc.stdout], [], [], 0.2)
            if ready:
                line = self._proc.stdout.readline()
                match = _READY.search(line)
                if match:
                    return match.group(1)
            if self._proc.poll() is not None:
                raise RuntimeError(f"the fake Hub exited with {self._proc.returncode}: {self._errors()}")
        raise RuntimeError(f"the fake Hub did not start within {self.start_timeout} s: {self._errors()}")

    def _errors(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read()[-2000:]

    def stop(self) -> None:
        proc, self._proc, self._target = self._proc, None, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> "HubProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def seed_nodes(target: Target, n: int, *, workers: int = 16) -> None:
    """Create ``n`` nodes (``bench-node-00000`` ...) in the master realm through the API."""
    if n <= 0:
        return
    with httpx.Client(transport=target.transport(), timeout=TIMEOUT) as http:
        headers = token(http, target)
        realms = http.get(target.auth_url + "realms", params={"filter[name]": "master"}, headers=headers)
        realms.raise_for_status()
        realm_id = realms.json()["data"][0]["id"]

        def create(i: int) -> None:
            response = http.post(target.core_url + "nodes", headers=headers,
                                 json={"name": f"bench-node-{i:05d}", "realmId": realm_id})
            response.raise_for_status()

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(create, range(n)):
                pass


def node_ids(target: Target, count: int) -> list[str]:
    """The ids of the first ``count`` nodes (raw httpx; not measured)."""
    out: list[str] = []
    with httpx.Client(transport=target.transport(), timeout=TIMEOUT) as http:
        headers = token(http, target)
        while len(out) < count:
            response = http.get(target.core_url + "nodes", headers=headers,
                                params={"page[limit]": "50", "page[offset]": str(len(out))})
            response.raise_for_status()
            data = response.json()["data"]
            if not data:
                break
            out += [record["id"] for record in data]
    return out[:count]
