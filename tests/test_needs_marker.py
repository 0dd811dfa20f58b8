"""``@pytest.mark.needs(...)``: tests that need a service beside auth, core and storage (worker,
broker, telemetry, internet) run on the fake Hub and are skipped, naming the service, on a deployed
Hub unless ``FLAME_HUB_SERVICES`` says it is there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import deployed_services, needed_services

from flame_hub.testing import FakeHub

ROOT = Path(__file__).resolve().parents[1]


class Node:
    """What ``needed_services`` reads of a test item."""

    nodeid = "tests/x.py::test_x"

    def __init__(self, *marks: pytest.MarkDecorator) -> None:
        self.marks = [m.mark for m in marks]

    def iter_markers(self, name: str):
        return (m for m in self.marks if m.name == name)


def test_needed_services_per_era():
    node = Node(pytest.mark.needs("worker"), pytest.mark.needs("broker", "worker", eras=("0.14.0",)))
    assert needed_services(node, "0.14.0") == ["worker", "broker"]
    assert needed_services(node, "0.8.5") == ["worker"]
    assert needed_services(Node(), "0.14.0") == []
    with pytest.raises(pytest.UsageError, match="among worker, broker, telemetry, internet"):
        needed_services(Node(pytest.mark.needs("wokrer")), "0.14.0")


def test_deployed_services_from_the_environment():
    assert deployed_services({"FLAME_HUB_SERVICES": " Worker, broker ,"}) == {"worker", "broker"}
    assert deployed_services({}) == set()
    with pytest.raises(ValueError, match="FLAME_HUB_SERVICES"):
        deployed_services({"FLAME_HUB_SERVICES": "gpu"})


def _run(hub: FakeHub, services: str) -> str:
    env = {**os.environ, "PYTEST_HUB": "external", "FLAME_HUB_URL": hub.url, "FLAME_HUB_SERVICES": services}
    env.pop("PYTEST_USE_TESTCONTAINERS", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
         "tests/test_clients_special.py::test_registry_commands"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    return proc.stdout + proc.stderr


def test_a_deployed_hub_without_the_service_skips_with_the_reason():
    with FakeHub() as hub:  # served on a port: the external backend talks to it like to a Hub
        skipped = _run(hub, "broker")
        assert "1 skipped" in skipped and "needs the Hub's worker" in skipped, skipped
        ran = _run(hub, "worker")
        assert "1 passed" in ran, ran
