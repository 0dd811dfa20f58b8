"""The testcontainers backend without Docker: the container plan (images, environment, wiring,
start order, readiness), the shipped gateway configuration, the runner's wiring on recording
stand-ins for testcontainers, and the one clear message when no Docker engine answers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import _containers as tc
from _containers import GATEWAY_CONFIG, GATEWAY_PORT, ROUTES, HubPlan, Ready, Service, plan_for

ROOT = Path(__file__).resolve().parents[1]
VERSIONS = ("0.14.0", "0.8.5")


# ---------------------------------------------------------------------------- the plan
@pytest.mark.parametrize("version, authup, db, core_command", [
    ("0.14.0", "authup/authup:1.0.0-beta.62", "mysql:9", "core cli start"),
    ("0.8.5", "authup/authup:1.0.0-beta.24", "mariadb:10.11", "core start"),
])
def test_images_and_commands_follow_the_hub_version(version, authup, db, core_command):
    plan = plan_for(version, {})
    assert plan.hub_version == version
    assert plan.service("core").image == plan.service("storage").image == f"ghcr.io/privateaim/hub:{version}"
    assert plan.service("authup").image == authup and plan.service("mysql").image == db
    assert plan.service("core").command == core_command
    assert plan.service("storage").command == "storage start"
    assert {"mysql", "redis", "minio", "mq", "vault", "authup", "core", "storage"} <= set(plan.names())
    assert plan.gateway.image.startswith("nginx:")
    # telemetry (analysis logs) only exists from 0.13 on
    assert ("telemetry" in plan.names()) == (version == "0.14.0")


def test_images_can_be_overridden():
    plan = plan_for("0.14.0", {"PYTEST_HUB_IMAGE": "registry.test/hub:dev",
                               "PYTEST_AUTHUP_IMAGE": "registry.test/authup:dev",
                               "PYTEST_DB_IMAGE": "mariadb:11"})
    assert plan.service("core").image == plan.service("telemetry").image == "registry.test/hub:dev"
    assert plan.service("authup").image == "registry.test/authup:dev"
    assert plan.service("mysql").image == "mariadb:11"
    assert plan.service("mysql").env["MARIADB_ROOT_PASSWORD"] == tc.PASSWORD


@pytest.mark.parametrize("bad", ["latest", "", "0.14"])
def test_a_version_that_is_not_one_is_refused(bad):
    with pytest.raises(ValueError):
        plan_for(bad, {})


def _hosts(env: dict) -> set[str]:
    """Host names the environment points at (URLs, ``secret@http://host`` strings, DB_HOST)."""
    hosts = {env["DB_HOST"]} if "DB_HOST" in env else set()
    for value in env.values():
        hosts.update(re.findall(r"://(?:[^@/]*@)?([A-Za-z0-9.-]+)", value))
    return hosts - {"localhost"}


@pytest.mark.parametrize("version", VERSIONS)
def test_every_service_reaches_only_services_of_the_plan(version):
    plan = plan_for(version, {})
    names = set(plan.names())
    for service in plan.services:
        assert _hosts(dict(service.env)) <= names, service.name
        assert set(service.depends_on) <= names, service.name
        # what a service talks to is started before it
        assert _hosts(dict(service.env)) <= set(service.depends_on), service.name
    databases = [s.env["DB_DATABASE"] for s in plan.services if "DB_DATABASE" in s.env]
    assert len(databases) == len(set(databases)) and "auth" in databases and "core" in databases
    core = plan.service("core").env
    assert core["AUTHUP_URL"] == "http://authup:3000/" and core["DB_HOST"] == "mysql"
    assert core["RABBITMQ_CONNECTION_STRING"].startswith("amqp://root:") and core["SKIP_PROJECT_APPROVAL"] == "true"
    assert plan.service("storage").env["MINIO_CONNECTION_STRING"] == f"http://admin:{tc.PASSWORD}@minio:9000"
    assert plan.service("authup").env["ROBOT_ADMIN_ENABLED"] == "true"


@pytest.mark.parametrize("version", VERSIONS)
def test_start_order_puts_dependencies_first_and_the_gateway_last(version):
    plan = plan_for(version, {})
    order = [s.name for s in plan.start_order()]
    assert order[-1] == "gateway" and sorted(order) == sorted(plan.names())
    for service in plan.start_order():
        for dep in service.depends_on:
            assert order.index(dep) < order.index(service.name)
    assert set(plan.gateway.depends_on) == set(ROUTES.values())


def test_start_order_refuses_cycles_and_unknown_services():
    gateway = Service("gateway", "nginx", depends_on=("a",))
    with pytest.raises(ValueError, match="cycle"):
        HubPlan("0.14.0", "x", (Service("a", "i", depends_on=("b",)), Service("b", "i", depends_on=("a",))),
                gateway).start_order()
    with pytest.raises(ValueError, match="not in the plan"):
        HubPlan("0.14.0", "x", (Service("a", "i", depends_on=("ghost",)),), gateway).start_order()
    with pytest.raises(KeyError):
        plan_for("0.14.0", {}).service("ui")


@pytest.mark.parametrize("version", VERSIONS)
def test_readiness_is_defined_for_every_container(version):
    plan = plan_for(version, {})
    for service in (*plan.services, plan.gateway):
        ready = service.ready
        assert ready.log or ready.http_path, service.name
        if ready.http_path:  # checked from the host: the port must be published
            assert ready.port in service.ports, service.name
    for name in ("authup", "core", "storage"):
        assert plan.service(name).ready == Ready(http_path="/", port=3000)
    assert plan.gateway.ready.http_path == "/core/" and plan.gateway.ports == (GATEWAY_PORT,)
    assert plan.gateway.files == ((GATEWAY_CONFIG, "/etc/nginx/nginx.conf"),)


def test_urls_behind_the_gateway():
    assert HubPlan.urls("http://127.0.0.1:49153") == {
        "auth": "http://127.0.0.1:49153/auth/", "core": "http://127.0.0.1:49153/core/",
        "storage": "http://127.0.0.1:49153/storage/"}


def test_describe_lists_the_containers_in_start_order():
    lines = list(tc.describe(plan_for("0.8.5", {})))
    assert lines[0].startswith("mysql: mariadb:10.11") and lines[-1].startswith("gateway: nginx")
    assert "core: ghcr.io/privateaim/hub:0.8.5 (core start) after" in "\n".join(lines)


# ---------------------------------------------------------------------------- the gateway config
def _locations(text: str) -> dict[str, list[str]]:
    return {m.group(1): [line.strip() for line in m.group(2).strip().splitlines()]
            for m in re.finditer(r"location\s+(\S+)\s*\{([^}]*)\}", text)}


def test_gateway_config_routes_the_hub_prefixes_to_the_plan():
    text = GATEWAY_CONFIG.read_text()
    assert re.search(rf"listen\s+{GATEWAY_PORT};", text)
    assert "large_client_header_buffers 4 16k;" in text  # the Hub gateway's head limit
    locations = _locations(text)
    for prefix, service in ROUTES.items():
        body = locations[f"/{prefix}/"]
        assert f"proxy_pass http://{service}:3000;" in body
        rewrite = next(line for line in body if line.startswith("rewrite"))
        pattern, target = rewrite.split()[1:3]
        # the prefix is cut: /core/nodes?x -> /nodes (nginx matches the path only)
        assert re.sub(pattern, target.replace("$1", r"\1"), f"/{prefix}/nodes/42") == "/nodes/42"
        assert re.sub(pattern, target.replace("$1", r"\1"), f"/{prefix}/") == "/"
    every_service = {s.name for s in plan_for("0.8.5", {}).services}
    assert set(re.findall(r"proxy_pass http://(\w+):", text)) <= every_service  # resolvable on both eras


# ---------------------------------------------------------------------------- running a plan
class FakeContainer:
    """Records what the runner asks of a testcontainers container."""

    started: list[str] = []
    fail_on: str | None = None

    def __init__(self, image, command=None, env=None):
        self.image, self.command, self.env = image, command, env
        self.aliases, self.ports, self.files, self.strategy, self.stopped = [], [], [], None, False

    def with_network(self, network):
        self.network = network
        return self

    def with_network_aliases(self, *aliases):
        self.aliases += aliases
        return self

    def with_exposed_ports(self, *ports):
        self.ports += ports
        return self

    def with_copy_into_container(self, source, target):
        self.files.append((source, target))
        return self

    def waiting_for(self, strategy):
        self.strategy = strategy
        return self

    def start(self):
        if self.aliases[0] == FakeContainer.fail_on:
            raise TimeoutError(f"{self.aliases[0]} never got ready")
        FakeContainer.started.append(self.aliases[0])
        return self

    def stop(self):
        self.stopped = True

    def get_container_host_ip(self):
        return "127.0.0.1"

    def get_exposed_port(self, port):
        return 49153


class FakeNetwork:
    removed = False

    def create(self):
        return self

    def remove(self):
        FakeNetwork.removed = True


@pytest.fixture
def fake_testcontainers(monkeypatch):
    import testcontainers.core.container
    import testcontainers.core.network

    FakeContainer.started, FakeContainer.fail_on, FakeNetwork.removed = [], None, False
    monkeypatch.setattr(testcontainers.core.container, "DockerContainer", FakeContainer)
    monkeypatch.setattr(testcontainers.core.network, "Network", FakeNetwork)


def test_start_hub_wires_every_container_and_returns_the_gateway(fake_testcontainers):
    from testcontainers.core.wait_strategies import HttpWaitStrategy, LogMessageWaitStrategy

    plan = plan_for("0.14.0", {})
    running = tc.start_hub(plan, timeout=5)
    assert running.url == "http://127.0.0.1:49153/"
    assert FakeContainer.started == [s.name for s in plan.start_order()]
    by_name = {c.aliases[0]: c for c in running.containers}
    core = by_name["core"]
    assert core.image == plan.service("core").image and core.command == "core cli start"
    assert core.env == dict(plan.service("core").env) and core.ports == [3000]
    assert isinstance(core.strategy, HttpWaitStrategy)
    assert isinstance(by_name["mysql"].strategy, LogMessageWaitStrategy)
    assert by_name["gateway"].files == [(GATEWAY_CONFIG, "/etc/nginx/nginx.conf")]
    assert all(c.network is running.network for c in running.containers)
    running.stop()
    assert all(c.stopped for c in running.containers) and FakeNetwork.removed


def test_start_hub_stops_what_it_started_when_a_container_fails(fake_testcontainers):
    FakeContainer.fail_on = "core"
    with pytest.raises(TimeoutError, match="core"):
        tc.start_hub(plan_for("0.8.5", {}), timeout=5)
    assert "core" not in FakeContainer.started and "authup" in FakeContainer.started
    assert FakeNetwork.removed


def test_docker_problem_says_why(monkeypatch):
    import docker

    class Engine:
        def __init__(self, fail):
            self.fail = fail

        def ping(self):
            if self.fail:
                raise docker.errors.APIError("engine paused")
            return True

        def close(self):
            pass

    monkeypatch.setattr(docker, "from_env", lambda **kw: Engine(False))
    assert tc.docker_problem() is None
    monkeypatch.setattr(docker, "from_env", lambda **kw: Engine(True))
    assert "engine paused" in tc.docker_problem()


@pytest.mark.parametrize("switch", [{"PYTEST_HUB": "testcontainers"}, {"PYTEST_USE_TESTCONTAINERS": "1"}])
def test_without_docker_the_run_stops_with_one_message(switch):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DOCKER_"))}
    env.update(switch, DOCKER_HOST="unix:///nonexistent/docker.sock")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_containers.py::test_urls_behind_the_gateway"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    out = done.stdout + done.stderr
    assert done.returncode == 4, out
    assert out.count("needs Docker") == 1 and "PYTEST_HUB=fake" in out and "PYTEST_HUB=external" in out
    assert "Traceback" not in out and "passed" not in out
