"""The peer column: flame-hub-client 1.1.0 running the same workloads, in its own venv.

1.1.0 has our distribution name, so it lives in a venv of its own (:data:`VENV`, created on first
use with ``pip install flame-hub-client==1.1.0``, ignored by git) and runs the workloads in a
long-lived subprocess (:mod:`benchmarks._peer_worker`), one request-answer per line. A
:class:`PeerRun` is a workload like the others (``run(log) -> records``) whose timing is taken in
that subprocess (:meth:`PeerRun.sample`), so it can alternate with our variants round by round.
When the venv cannot be made (no network, no pip), :func:`start` says why and the report shows
that instead of the column.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ._measure import RequestLog, Sample
from ._report import PEER, PEER_FLOOR
from ._workloads import Target

__all__ = ["REQUIREMENT", "VENV", "WORKER", "PEER", "PEER_FLOOR", "Peer", "PeerWorker", "PeerRun", "installed_python",
           "ensure_venv", "start"]

REQUIREMENT = "flame-hub-client==1.1.0"
HERE = Path(__file__).resolve().parent
VENV = HERE / ".peer-venv"
WORKER = HERE / "_peer_worker.py"


def _clean_env() -> dict[str, str]:
    """The environment without anything that would put our ``flame_hub`` on the peer's path."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _installed(python: Path, requirement: str) -> bool:
    """Whether ``python`` imports the required flame_hub version and httpx2 (run from a scratch
    folder, so our checkout is not on its path)."""
    version = requirement.partition("==")[2]
    check = ("import flame_hub, httpx2, sys; "
             f"sys.exit(0 if flame_hub.__version__ == {version!r} else 1)")
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run([str(python), "-c", check], cwd=scratch, env=_clean_env(),
                              capture_output=True, timeout=120)
    return done.returncode == 0


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def installed_python(venv: Path = VENV, requirement: str = REQUIREMENT) -> Path | None:
    """The Python of ``venv`` if it already holds ``requirement`` (nothing is installed)."""
    peer_python = _venv_python(venv)
    try:
        return peer_python if peer_python.exists() and _installed(peer_python, requirement) else None
    except (OSError, subprocess.SubprocessError):
        return None


def ensure_venv(venv: Path = VENV, requirement: str = REQUIREMENT, *, python: str = sys.executable,
                say: Callable[[str], None] = lambda msg: None) -> Path | str:
    """The Python of a venv holding ``requirement`` (made and filled when missing), or a
    sentence saying why there is none."""
    ready = installed_python(venv, requirement)
    if ready is not None:
        return ready
    peer_python = _venv_python(venv)
    try:
        if not peer_python.exists():
            say(f"   creating {venv} for {requirement}")
            made = subprocess.run([python, "-m", "venv", str(venv)], capture_output=True, text=True, timeout=300)
            if made.returncode != 0:
                return f"could not create a venv at {venv}: {_last_line(made.stderr)}"
        say(f"   pip install {requirement} into {venv}")
        pip = subprocess.run([str(peer_python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                              requirement], capture_output=True, text=True, timeout=900, env=_clean_env())
        if pip.returncode != 0:
            return f"pip install {requirement} failed (no network?): {_last_line(pip.stderr)}"
        if not _installed(peer_python, requirement):
            return f"{venv} does not import {requirement} after installing it"
    except (OSError, subprocess.SubprocessError) as exc:
        return f"could not prepare {venv}: {exc}"
    return peer_python


class PeerWorker:
    """``<python> _peer_worker.py`` as a child process, asked one JSON line at a time."""

    def __init__(self, python: Path | str, *, env: dict[str, str] | None = None) -> None:
        self.python = str(python)
        self._env = _clean_env() if env is None else env
        self._proc: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None
        self._cwd: tempfile.TemporaryDirectory[str] | None = None
        #: the worker's ``hello`` answer: Python, package versions, ``async``
        self.info: dict[str, Any] = {}

    def start(self) -> PeerWorker:
        self._stderr = tempfile.TemporaryFile("w+")
        self._cwd = tempfile.TemporaryDirectory()
        self._proc = subprocess.Popen([self.python, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self._stderr, text=True, cwd=self._cwd.name, env=self._env)
        try:
            self.info = self.call({"op": "hello"})
        except BaseException:
            self.close()
            raise
        return self

    def call(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Send one request, wait for its answer; the worker's errors are raised here."""
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdout is None:
            raise RuntimeError("the peer worker is not running")
        proc.stdin.write(json.dumps(msg) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the peer worker exited ({proc.poll()}): {self._errors()}")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"the peer failed: {answer['error']}\n{answer.get('traceback', '')}")
        return answer

    def _errors(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read()[-2000:]

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        for res in (self._stderr, self._cwd):
            if res is not None:
                (res.cleanup if isinstance(res, tempfile.TemporaryDirectory) else res.close)()
        self._stderr = self._cwd = None

    def __enter__(self) -> PeerWorker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class PeerRun:
    """One workload run by the peer: ``run(log)`` (warm-up, request counts into ``log``) and
    :meth:`sample` (timed in the worker)."""

    worker: PeerWorker
    workload: str
    target: Target
    args: dict[str, Any] = field(default_factory=dict)

    def _ask(self) -> dict[str, Any]:
        return self.worker.call({"op": "run", "workload": self.workload, "url": self.target.url,
                                 "username": self.target.username, "password": self.target.password,
                                 **self.args})

    def __call__(self, log: RequestLog) -> int:
        answer = self._ask()
        log.counts.update(answer["requests"])
        return int(answer["records"])

    def sample(self, server_cpu: Callable[[], float | None] | None = None) -> Sample:
        server0 = server_cpu() if server_cpu else None
        answer = self._ask()
        server1 = server_cpu() if server_cpu else None
        server = server1 - server0 if server0 is not None and server1 is not None else None
        return Sample(wall=answer["wall"], cpu=answer["cpu"], records=int(answer["records"]),
                      requests=answer["requests"], server_cpu=server)


@dataclass
class Peer:
    """What :func:`start` found: a running worker, or why there is none."""

    requirement: str
    worker: PeerWorker | None = None
    reason: str = ""

    def describe(self) -> dict[str, Any]:
        """For the results: the requirement, whether it ran, its versions or the reason."""
        if self.worker is None:
            return {"requirement": self.requirement, "name": PEER, "available": False, "reason": self.reason}
        return {"requirement": self.requirement, "name": PEER, "available": True, **self.worker.info}

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()


def start(venv: Path = VENV, requirement: str = REQUIREMENT, *, python: str = sys.executable,
          say: Callable[[str], None] = lambda msg: None) -> Peer:
    """Prepare the venv (made with ``python -m venv`` when missing) and start the worker; never
    raises for a missing peer (the reason is kept)."""
    peer_python = ensure_venv(venv, requirement, python=python, say=say)
    if isinstance(peer_python, str):
        return Peer(requirement, reason=peer_python)
    try:
        return Peer(requirement, worker=PeerWorker(peer_python).start())
    except (OSError, RuntimeError, ValueError) as exc:
        return Peer(requirement, reason=f"the peer worker did not start: {exc}")
