"""The testcontainers backend (``PYTEST_HUB=testcontainers`` or ``PYTEST_USE_TESTCONTAINERS=1``):
a real Hub started from its images, behind a gateway with the ``/auth/``, ``/core/`` and
``/storage/`` prefixes.

Two parts:

- :func:`plan_for` — the container plan, pure data and unit-tested without Docker: which images,
  which environment, who depends on whom, what "ready" means, which port the host sees. It follows
  the Hub's own docker-compose for the chosen ``PYTEST_HUB_VERSION`` (PrivateAIM/hub
  ``docker-compose.yml``; the deployment repository's ``docker-compose/``): database, redis,
  object storage (MinIO), message queue (RabbitMQ), vault, authup, core and storage (+ on Hub >=
  0.13 the telemetry service core writes analysis logs to, with its VictoriaLogs). Not started:
  the UI, the realtime/messenger socket services and the worker that builds analysis images (it
  needs the host's Docker socket) — no REST call of this client goes to them.
- :func:`start_hub` — starts a plan with testcontainers on one private network and returns the
  gateway URL; :func:`docker_problem` tells whether a Docker engine answers at all.

Image names and tags are assumptions where the composes say ``latest``; each can be overridden:
``PYTEST_HUB_IMAGE`` (default ``ghcr.io/privateaim/hub:<version>``), ``PYTEST_AUTHUP_IMAGE``
(default ``authup/authup:<the era's authup version>``), ``PYTEST_DB_IMAGE``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flame_hub.dialects import dialect_for_version
from flame_hub.resources import ERA_INFO

GATEWAY_CONFIG = Path(__file__).resolve().parent / "containers" / "nginx.conf"
GATEWAY_PORT = 3000  # what the gateway listens on inside its container
SERVICE_PORT = 3000  # authup, core, storage and telemetry all listen on 3000
PASSWORD = "start123"  # the composes' development password (database, MinIO, RabbitMQ, vault)
#: the prefixes the gateway routes, and the plan service behind each
ROUTES = {"auth": "authup", "core": "core", "storage": "storage"}


@dataclass(frozen=True)
class Ready:
    """What "started" means for a container: a log line (``times`` times) or an HTTP 200 on a
    path of an exposed port."""

    log: str | None = None
    times: int = 1
    http_path: str | None = None
    port: int | None = None


@dataclass(frozen=True)
class Service:
    """One container of the plan; ``name`` is its host name on the plan's network."""

    name: str
    image: str
    env: Mapping[str, str] = field(default_factory=dict)
    command: str | None = None
    depends_on: tuple[str, ...] = ()
    ready: Ready = field(default_factory=Ready)
    #: container ports published to the host (random host ports)
    ports: tuple[int, ...] = ()
    #: files copied into the container before it starts: (path on the host, path inside)
    files: tuple[tuple[Path, str], ...] = ()


@dataclass(frozen=True)
class HubPlan:
    """Every container of one Hub version, and the gateway in front of them."""

    hub_version: str
    authup_version: str
    services: tuple[Service, ...]
    gateway: Service

    def service(self, name: str) -> Service:
        for s in (*self.services, self.gateway):
            if s.name == name:
                return s
        raise KeyError(f"no service {name!r} in the plan; have {', '.join(self.names())}")

    def names(self) -> list[str]:
        return [s.name for s in (*self.services, self.gateway)]

    def start_order(self) -> list[Service]:
        """Every service after the ones it depends on (the gateway last); raises ValueError for
        a missing dependency or a cycle."""
        pending = {s.name: s for s in (*self.services, self.gateway)}
        done: list[Service] = []
        seen: set[str] = set()

        def visit(s: Service, path: tuple[str, ...]) -> None:
            if s.name in seen:
                return
            if s.name in path:
                raise ValueError(f"dependency cycle: {' -> '.join((*path, s.name))}")
            for dep in s.depends_on:
                if dep not in pending:
                    raise ValueError(f"{s.name} depends on {dep!r}, which is not in the plan")
                visit(pending[dep], (*path, s.name))
            seen.add(s.name)
            done.append(s)

        for s in pending.values():
            visit(s, ())
        return done

    @staticmethod
    def urls(base: str) -> dict[str, str]:
        """The service URLs behind a gateway base URL (``http://host:port/``)."""
        base = base if base.endswith("/") else base + "/"
        return {prefix: f"{base}{prefix}/" for prefix in ROUTES}


def _era_of(hub_version: str) -> str:
    return dialect_for_version(hub_version).catalog_era


def plan_for(hub_version: str = "0.14.0", environ: Mapping[str, str] | None = None) -> HubPlan:
    """The containers of Hub ``hub_version`` (``PYTEST_HUB_VERSION``), by its era's compose file.

    Raises ``ValueError`` for a string that is not a Hub version."""
    environ = os.environ if environ is None else environ
    era = _era_of(hub_version)  # raises ValueError for "latest" and friends
    current = dialect_for_version(hub_version).record_envelope  # Hub >= 0.13 layout
    authup_version = ERA_INFO[era]["authup"]
    hub_image = environ.get("PYTEST_HUB_IMAGE") or f"ghcr.io/privateaim/hub:{hub_version.lstrip('v')}"
    authup_image = environ.get("PYTEST_AUTHUP_IMAGE") or f"authup/authup:{authup_version}"
    # the 0.8.x error mapper only knows MySQL error codes (legacy README: MariaDB 10.11 was used
    # for the recordings); the current compose runs mysql:9
    db_image = environ.get("PYTEST_DB_IMAGE") or ("mysql:9" if current else "mariadb:10.11")
    db_env = ({"MYSQL_ROOT_HOST": "%", "MYSQL_ROOT_PASSWORD": PASSWORD} if db_image.startswith("mysql")
              else {"MARIADB_ROOT_HOST": "%", "MARIADB_ROOT_PASSWORD": PASSWORD})

    def database(name: str) -> dict[str, str]:
        return {"DB_TYPE": "mysql", "DB_HOST": "mysql", "DB_USERNAME": "root",
                "DB_PASSWORD": PASSWORD, "DB_DATABASE": name}

    common = {
        "REDIS_CONNECTION_STRING": "redis://redis",
        "VAULT_CONNECTION_STRING": f"{PASSWORD}@http://vault:8090/v1/",
        "AUTHUP_URL": f"http://authup:{SERVICE_PORT}/",
    }
    mq = f"amqp://root:{PASSWORD}@mq"
    backing = ("mysql", "redis", "vault")
    on_http = Ready(http_path="/", port=SERVICE_PORT)

    services = [
        Service("mysql", db_image, db_env, ready=Ready(log="ready for connections", times=2)),
        Service("redis", "bitnamilegacy/redis:8.2.1-debian-12-r0", {"ALLOW_EMPTY_PASSWORD": "yes"},
                ready=Ready(log="Ready to accept connections")),
        Service("minio", "minio/minio:latest",
                {"MINIO_ROOT_USER": "admin", "MINIO_ROOT_PASSWORD": PASSWORD},
                command="server /data", ready=Ready(log="API:")),
        Service("mq", "rabbitmq:3-management",
                {"RABBITMQ_DEFAULT_USER": "root", "RABBITMQ_DEFAULT_PASS": PASSWORD},
                ready=Ready(log="Server startup complete")),
        Service("vault", "hashicorp/vault:latest" if current else "vault:1.12.0",
                {"SKIP_SETCAP": "true", "VAULT_DEV_ROOT_TOKEN_ID": PASSWORD,
                 "VAULT_DEV_LISTEN_ADDRESS": "0.0.0.0:8090"},
                ready=Ready(log="Vault server started")),
        Service("authup", authup_image, {
            **database("auth"), "VAULT": f"{PASSWORD}@http://vault:8090/v1/", "REDIS": "redis://redis",
            # public URLs name the gateway; its host port is only known once it runs, and the
            # services reach each other by name (AUTHUP_URL), so a placeholder host is enough
            "PUBLIC_URL": "http://localhost/auth/", "AUTHORIZE_REDIRECT_URL": "http://localhost/",
            "ROBOT_ADMIN_ENABLED": "true",
        }, depends_on=backing, ready=on_http, ports=(SERVICE_PORT,)),
        Service("core", hub_image, {
            **common, **database("core"), "RABBITMQ_CONNECTION_STRING": mq,
            "PUBLIC_URL": "http://localhost/core/", "SKIP_PROJECT_APPROVAL": "true",
            "SKIP_ANALYSIS_APPROVAL": "true",
            **({"TELEMETRY_URL": f"http://telemetry:{SERVICE_PORT}/", "HARBOR_URL": ""} if current else {}),
        }, command="core cli start" if current else "core start",
            depends_on=(*backing, "mq", "authup", *(("telemetry",) if current else ())),
            ready=on_http, ports=(SERVICE_PORT,)),
        Service("storage", hub_image, {
            **common, **database("storage"), "PUBLIC_URL": "http://localhost/storage/",
            "MINIO_CONNECTION_STRING": f"http://admin:{PASSWORD}@minio:9000",
            **({"RABBITMQ_CONNECTION_STRING": mq} if current else {}),
        }, command="storage start", depends_on=(*backing, "minio", "authup", *(("mq",) if current else ())),
            ready=on_http, ports=(SERVICE_PORT,)),
    ]
    if current:  # analysis logs go from core to telemetry, which keeps them in VictoriaLogs
        services += [
            Service("vl", "victoriametrics/victoria-logs:v1.43.1",
                    ready=Ready(http_path="/health", port=9428), ports=(9428,)),
            Service("telemetry", hub_image, {
                **common, **database("telemetry"), "RABBITMQ_CONNECTION_STRING": mq,
                "PUBLIC_URL": "http://localhost/telemetry/", "VICTORIA_LOGS_URL": "http://vl:9428/",
            }, command="telemetry cli start", depends_on=(*backing, "mq", "authup", "vl"),
                ready=on_http, ports=(SERVICE_PORT,)),
        ]
    gateway = Service("gateway", "nginx:1.27-alpine", depends_on=tuple(ROUTES.values()),
                      ready=Ready(http_path="/core/", port=GATEWAY_PORT), ports=(GATEWAY_PORT,),
                      files=((GATEWAY_CONFIG, "/etc/nginx/nginx.conf"),))
    return HubPlan(hub_version, authup_version, tuple(services), gateway)


# ------------------------------------------------------------------------------ running a plan
def docker_problem() -> str | None:
    """None when a Docker engine answers; else why not (for one clear message)."""
    try:
        import docker  # noqa: PLC0415 - a test extra (testcontainers depends on it)
    except ImportError:
        return "the docker and testcontainers packages are not installed (pip install -e '.[test]')"
    try:
        engine = docker.from_env(timeout=5)
        try:
            engine.ping()
        finally:
            engine.close()
    except Exception as err:  # noqa: BLE001 - any failure means: no engine to talk to
        return f"no Docker engine answers ({type(err).__name__}: {str(err).splitlines()[0][:200]})"
    return None


@dataclass
class RunningHub:
    """A started plan: the gateway URL, and how to stop everything."""

    plan: HubPlan
    url: str
    containers: list[Any]
    network: Any

    def stop(self) -> None:
        for container in reversed(self.containers):
            try:
                container.stop()
            except Exception:  # noqa: BLE001 - stop the rest anyway
                pass
        try:
            self.network.remove()
        except Exception:  # noqa: BLE001
            pass


def _container(service: Service, network: Any, timeout: float) -> Any:
    from testcontainers.core.container import DockerContainer  # noqa: PLC0415
    from testcontainers.core.wait_strategies import HttpWaitStrategy, LogMessageWaitStrategy  # noqa: PLC0415

    container = DockerContainer(service.image, command=service.command, env=dict(service.env))
    container.with_network(network).with_network_aliases(service.name)
    if service.ports:
        container.with_exposed_ports(*service.ports)
    for source, target in service.files:
        container.with_copy_into_container(source, target)
    ready = service.ready
    if ready.http_path is not None:
        strategy = HttpWaitStrategy(ready.port or SERVICE_PORT, ready.http_path)
    elif ready.log is not None:
        strategy = LogMessageWaitStrategy(ready.log, times=ready.times)
    else:
        return container
    return container.waiting_for(strategy.with_startup_timeout(timeout))


def start_hub(plan: HubPlan, timeout: float = 300) -> RunningHub:
    """Start every container of ``plan`` in dependency order and wait until each is ready;
    returns the gateway URL. Stops what it started when something fails."""
    from testcontainers.core.network import Network  # noqa: PLC0415

    network = Network()
    network.create()
    running = RunningHub(plan, "", [], network)
    try:
        for service in plan.start_order():
            container = _container(service, network, timeout)
            container.start()
            running.containers.append(container)
            if service is plan.gateway:
                host = container.get_container_host_ip()
                running.url = f"http://{host}:{container.get_exposed_port(GATEWAY_PORT)}/"
    except BaseException:
        running.stop()
        raise
    return running


def describe(plan: HubPlan) -> Iterator[str]:
    """One line per container, in start order (for logs and ``--collect-only`` runs)."""
    for s in plan.start_order():
        after = f" after {', '.join(s.depends_on)}" if s.depends_on else ""
        yield f"{s.name}: {s.image}{f' ({s.command})' if s.command else ''}{after}"
