"""Test backends: every test takes its Hub and clients from these fixtures.

``PYTEST_HUB`` picks the backend (``.env.test`` then ``.env`` are read with python-dotenv; real
environment variables win):

- ``fake`` (default): the shipped :class:`flame_hub.testing.FakeHub`, served on 127.0.0.1 by a
  real HTTP server for the whole session;
- ``external``: a Hub you run — ``FLAME_HUB_URL`` (gateway base, e.g. ``http://localhost:3000/``)
  or ``FLAME_HUB_AUTH_URL``/``FLAME_HUB_CORE_URL``/``FLAME_HUB_STORAGE_URL``, and
  ``FLAME_HUB_USERNAME``/``FLAME_HUB_PASSWORD`` (default admin/start123);
- ``testcontainers``: the real Hub images (``PYTEST_HUB_VERSION``, default 0.14.0) started by
  testcontainers behind a gateway with the Hub's path prefixes (plan: ``tests/_containers.py``,
  gateway configuration: ``tests/containers/nginx.conf``). Without a Docker engine the run stops
  at once with one message naming the other backends.

``PYTEST_USE_TESTCONTAINERS=0`` (the original client's switch) means ``external``, ``1`` means
``testcontainers``, unless ``PYTEST_HUB`` is set in the environment.

Hub eras: on the fake backend every test that uses the Hub (``hub_env`` and the fixtures built
on it) runs once per era of :data:`FAKE_ERAS` — ``FakeHub()`` (0.14.0) and
``FakeHub(version="0.8.5")`` —, ids ``[hub-0.14.0]`` / ``[hub-0.8.5]``. A test that only makes
sense on some eras says so: ``@pytest.mark.era("0.14.0")`` (several versions may be given);
:data:`ONE_ERA_MODULES` marks whole modules written for one era. On the other backends the
deployed Hub's version is read from ``GET {core}/`` and tests of other eras are skipped.
``PYTEST_HUB_ERAS=0.8.5`` (comma-separated) narrows the fake eras of a run.

Services beyond auth, core and storage: a test that cannot pass on a deployment without the
Hub's worker, message broker, telemetry service or internet access says so,
``@pytest.mark.needs("worker")`` (several may be given; ``eras=("0.14.0",)`` limits the need to
some eras). The fake models a full deployment, so there these tests run. On the other backends
they are skipped, naming what is missing, unless ``FLAME_HUB_SERVICES`` (comma-separated, e.g.
``worker,broker``) says the deployment has it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("fake", "external", "testcontainers")
#: the Hub eras the fake backend runs the suite on (the recorded ones)
FAKE_ERAS = ("0.14.0", "0.8.5")
#: modules whose tests run on one era: module name -> era. The query semantics on the Hub (v2
#: grammar, expression filters) and the 0.14 special operations (client credentials, node logs,
#: the analysis state machine) exist only there; auth flows, HTTP and fault handling are the same
#: on every era and are written against 0.14 answers (run once: the suite stays fast).
ONE_ERA_MODULES: dict[str, str] = {
    "test_query_hub.py": "0.14.0", "test_clients_special.py": "0.14.0",
    "test_auth.py": "0.14.0", "test_http.py": "0.14.0", "test_faults.py": "0.14.0",
}


#: what a full Hub deployment runs beside auth, core and storage, as ``needs`` marks name it
SERVICES = ("worker", "broker", "telemetry", "internet")


def needed_services(node: Any, version: str | None) -> list[str]:
    """The services an item's ``needs`` marks ask for on Hub ``version``."""
    out: list[str] = []
    for mark in node.iter_markers("needs"):
        unknown = [s for s in mark.args if s not in SERVICES]
        if unknown or not mark.args:
            raise pytest.UsageError(f"{node.nodeid}: needs() takes services among {', '.join(SERVICES)}, "
                                    f"not {', '.join(unknown) or 'nothing'}")
        eras = mark.kwargs.get("eras")
        if eras is None or version in eras:
            out += [s for s in mark.args if s not in out]
    return out


def deployed_services(settings: dict[str, str]) -> set[str]:
    """The services ``FLAME_HUB_SERVICES`` says a deployed Hub has (comma-separated)."""
    named = {s.strip().lower() for s in (settings.get("FLAME_HUB_SERVICES") or "").split(",") if s.strip()}
    unknown = named - set(SERVICES)
    if unknown:
        raise ValueError(f"FLAME_HUB_SERVICES: {', '.join(sorted(unknown))} not among {', '.join(SERVICES)}")
    return named


def load_settings(root: Path = ROOT, environ: dict[str, str] | None = None) -> dict[str, str]:
    """``.env.test``, then ``.env`` over it, then the environment over both."""
    settings: dict[str, str] = {}
    try:
        from dotenv import dotenv_values
    except ImportError:  # python-dotenv is a test extra; without it only the environment counts
        dotenv_values = None
    for name in (".env.test", ".env"):
        path = root / name
        if dotenv_values is not None and path.is_file():
            settings.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    settings.update(os.environ if environ is None else environ)
    return settings


def select_backend(settings: dict[str, str], environ: dict[str, str] | None = None) -> str:
    """The backend name from the settings (see the module docstring for the precedence)."""
    environ = os.environ if environ is None else environ
    backend = environ.get("PYTEST_HUB")
    if backend is None and settings.get("PYTEST_USE_TESTCONTAINERS") is not None:
        flag = settings["PYTEST_USE_TESTCONTAINERS"].strip().lower()
        backend = "external" if flag in ("0", "false", "no", "off", "") else "testcontainers"
    backend = (backend or settings.get("PYTEST_HUB") or "fake").strip().lower()
    if backend not in BACKENDS:
        raise ValueError(f"PYTEST_HUB={backend!r} is not one of {', '.join(BACKENDS)}")
    return backend


@dataclass
class HubEnv:
    """Where the Hub under test answers, and how to log in."""

    url: str | None
    auth_url: str
    core_url: str
    storage_url: str
    admin_username: str = "admin"
    admin_password: str = "start123"
    fake: Any = None  # the FakeHub on the fake backend, else None
    backend: str = "fake"
    #: the Hub version (``GET {core}/``): the fake's era, or what the deployed Hub reports
    version: str | None = None

    @property
    def dialect(self) -> Any:
        """The wire dialect of this Hub (``flame_hub.dialects``)."""
        from flame_hub.dialects import CURRENT, dialect_for_version

        return dialect_for_version(self.version) if self.version else CURRENT


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def external_env(settings: dict[str, str]) -> HubEnv:
    """The ``external`` backend's URLs and credentials; raises ValueError when none are set."""
    base = settings.get("FLAME_HUB_URL")
    per_service = {s: settings.get(f"FLAME_HUB_{s.upper()}_URL") for s in ("auth", "core", "storage")}
    if not base and not all(per_service.values()):
        raise ValueError("PYTEST_HUB=external needs FLAME_HUB_URL (gateway base, e.g. "
                         "http://localhost:3000/) or FLAME_HUB_AUTH_URL, FLAME_HUB_CORE_URL and "
                         "FLAME_HUB_STORAGE_URL")
    urls = {s: _slash(per_service[s] or _slash(base) + s + "/") for s in per_service}
    return HubEnv(url=_slash(base) if base else None, auth_url=urls["auth"], core_url=urls["core"],
                  storage_url=urls["storage"],
                  admin_username=settings.get("FLAME_HUB_USERNAME") or "admin",
                  admin_password=settings.get("FLAME_HUB_PASSWORD") or "start123",
                  backend="external")


def fake_eras(settings: dict[str, str]) -> tuple[str, ...]:
    """The eras the fake backend runs (``PYTEST_HUB_ERAS`` narrows :data:`FAKE_ERAS`)."""
    wanted = [e.strip() for e in (settings.get("PYTEST_HUB_ERAS") or "").split(",") if e.strip()]
    unknown = [e for e in wanted if e not in FAKE_ERAS]
    if unknown:
        raise ValueError(f"PYTEST_HUB_ERAS: {', '.join(unknown)} not among {', '.join(FAKE_ERAS)}")
    return tuple(wanted) or FAKE_ERAS


def eras_of(node: Any) -> tuple[str, ...] | None:
    """The eras an item (or a test function's definition) is marked for; None: every era."""
    marks = list(node.iter_markers("era"))
    module = ONE_ERA_MODULES.get(Path(str(getattr(node, "path", "") or getattr(node, "fspath", ""))).name)
    versions = {str(v) for m in marks for v in m.args}
    if module:
        versions = versions & {module} if versions else {module}
    return tuple(sorted(versions)) if marks or module else None


def _session_backend(config: Any) -> tuple[str, tuple[str, ...]]:
    """The backend and the fake eras of this run (read once per session)."""
    if not hasattr(config, "_flame_hub_backend"):
        settings = load_settings()
        try:
            backend, eras = select_backend(settings), fake_eras(settings)
        except ValueError:
            backend, eras = "fake", FAKE_ERAS  # hub_env stops the run with the message
        config._flame_hub_backend = (backend, eras)
    return config._flame_hub_backend


def pytest_generate_tests(metafunc: Any) -> None:
    """Run every test that uses the Hub once per era (fake backend) or once (the others)."""
    if "hub_env" not in metafunc.fixturenames:
        return
    backend, eras = _session_backend(metafunc.config)
    if backend != "fake":
        metafunc.parametrize("hub_era", [None], indirect=True, scope="session", ids=["hub"])
        return
    marked = eras_of(metafunc.definition)
    chosen = [e for e in eras if marked is None or e in marked]
    if not chosen:  # marked for an era this run leaves out
        chosen = [pytest.param(e, marks=pytest.mark.skip(reason=f"runs on Hub {', '.join(marked)} only"))
                  for e in (marked or ())]
    metafunc.parametrize("hub_era", chosen, indirect=True, scope="session",
                         ids=lambda e: f"hub-{e}")


def pytest_collection_modifyitems(config: Any, items: list) -> None:
    """Drop the fake-era variants that an ``era`` mark on a parameter excludes (e.g. a resource
    that exists on one era only: ``pytest.param("robots", marks=pytest.mark.era("0.8.5"))``)."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        era = callspec.params.get("hub_era") if callspec is not None else None
        marked = eras_of(item)
        (drop if era is not None and marked is not None and era not in marked else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def hub_era(request):
    """The fake Hub era of this test (None on the external/testcontainers backends)."""
    return getattr(request, "param", None)


@pytest.fixture(scope="session")
def hub_env(hub_era):
    """The Hub of this test session (``.url``, ``.auth_url``, ``.core_url``, ``.storage_url``,
    ``.admin_username``, ``.admin_password``, ``.fake``, ``.version``, ``.dialect``)."""
    settings = load_settings()
    try:
        backend = select_backend(settings)
        fake_eras(settings)
    except ValueError as err:
        pytest.exit(str(err), returncode=4)
    if backend == "testcontainers":
        yield from _containers_env(settings)
        return
    if backend == "external":
        try:
            env = external_env(settings)
        except ValueError as err:
            pytest.exit(str(err), returncode=4)
        env.version = _deployed_version(env)
        yield env
        return
    from flame_hub.testing import FakeHub

    with FakeHub(version=hub_era or FAKE_ERAS[0]) as hub:
        yield HubEnv(url=hub.url, auth_url=hub.auth_url, core_url=hub.core_url,
                     storage_url=hub.storage_url, fake=hub, backend="fake", version=hub.version)


NO_DOCKER = ("PYTEST_HUB=testcontainers (or PYTEST_USE_TESTCONTAINERS=1) needs Docker: {problem}. "
             "Start a Docker engine, or choose another backend: PYTEST_HUB=fake (the shipped fake "
             "Hub, the default) or PYTEST_HUB=external (a Hub you run; FLAME_HUB_URL and the admin "
             "credentials in .env).")


def pytest_collection(session: Any) -> None:
    """The testcontainers backend without a Docker engine: stop before collecting, with one
    message (not a wall of errors, not a silent pass)."""
    backend, _ = _session_backend(session.config)
    if backend == "testcontainers":
        from _containers import docker_problem

        problem = docker_problem()
        if problem is not None:
            pytest.exit(NO_DOCKER.format(problem=problem), returncode=4)


def _containers_env(settings: dict[str, str]):
    """Start the Hub of ``PYTEST_HUB_VERSION`` from its images; stop it after the session."""
    from _containers import HubPlan, docker_problem, plan_for, start_hub

    problem = docker_problem()
    if problem is not None:  # the engine went away since the session started
        pytest.exit(NO_DOCKER.format(problem=problem), returncode=4)
    try:
        plan = plan_for(settings.get("PYTEST_HUB_VERSION") or FAKE_ERAS[0], settings)
    except ValueError as err:
        pytest.exit(f"PYTEST_HUB_VERSION: {err}", returncode=4)
    running = start_hub(plan)
    try:
        urls = HubPlan.urls(running.url)
        yield HubEnv(url=running.url, auth_url=urls["auth"], core_url=urls["core"],
                     storage_url=urls["storage"], backend="testcontainers",
                     version=plan.hub_version)
    finally:
        running.stop()


def _deployed_version(env: HubEnv) -> str | None:
    """What a deployed Hub's core reports as its version (None if it says nothing)."""
    import httpx

    try:
        body = httpx.get(env.core_url, timeout=10).json()
    except (httpx.HTTPError, ValueError) as err:
        pytest.exit(f"the Hub at {env.core_url} does not answer: {err}", returncode=4)
    return body.get("version") if isinstance(body, dict) else None


@pytest.fixture(autouse=True)
def _skip_other_eras(request):
    """On a deployed Hub, a test marked for other eras is skipped (the fake backend does not
    even generate those)."""
    if "hub_env" not in request.fixturenames:
        return
    marked = eras_of(request.node)
    env = request.getfixturevalue("hub_env")
    if marked and env.fake is None and env.version not in marked:
        pytest.skip(f"runs on Hub {', '.join(marked)} only; this Hub is {env.version}")


@pytest.fixture(autouse=True)
def _skip_missing_services(request):
    """On a deployed Hub, a test that needs a service the deployment lacks (``needs`` marks,
    ``FLAME_HUB_SERVICES``) is skipped naming it; the fake models every service."""
    if "hub_env" not in request.fixturenames:
        return
    env = request.getfixturevalue("hub_env")
    if env.fake is not None:
        return
    try:
        present = deployed_services(load_settings())
    except ValueError as err:
        pytest.exit(str(err), returncode=4)
    missing = [s for s in needed_services(request.node, env.version) if s not in present]
    if missing:
        pytest.skip(f"needs the Hub's {', '.join(missing)}, which this deployment lacks "
                    f"(FLAME_HUB_SERVICES={','.join(sorted(present))!r}; add it there if the Hub has it)")


@pytest.fixture
def fake_hub(hub_env):
    """The session's FakeHub, reset to a fresh Hub before and after the test (faults, recorded
    requests and data). Skips on other backends: faults and ``hub.requests`` need the fake."""
    hub = hub_env.fake
    if hub is None:
        pytest.skip(f"needs the fake Hub (PYTEST_HUB=fake); this run uses {hub_env.backend}")
    hub.reset()
    yield hub
    hub.reset()


@pytest.fixture
def password_auth(hub_env):
    import flame_hub.auth

    return flame_hub.auth.PasswordAuth(username=hub_env.admin_username,
                                       password=hub_env.admin_password, base_url=hub_env.auth_url)


def _closing(client):
    yield client
    close = getattr(client, "close", None)
    if close is not None:
        close()


@pytest.fixture
def auth_client(hub_env, password_auth):
    import flame_hub

    yield from _closing(flame_hub.AuthClient(base_url=hub_env.auth_url, auth=password_auth))


@pytest.fixture
def core_client(hub_env, password_auth):
    import flame_hub

    yield from _closing(flame_hub.CoreClient(base_url=hub_env.core_url, auth=password_auth))


@pytest.fixture
def storage_client(hub_env, password_auth):
    import flame_hub

    yield from _closing(flame_hub.StorageClient(base_url=hub_env.storage_url, auth=password_auth))


@pytest.fixture
def anyio_backend():
    return "asyncio"
