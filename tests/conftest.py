"""Test backends: every test takes its Hub and clients from these fixtures.

``PYTEST_HUB`` picks the backend (``.env.test`` then ``.env`` are read with python-dotenv; real
environment variables win):

- ``fake`` (default): the shipped :class:`flame_hub.testing.FakeHub`, served on 127.0.0.1 by a
  real HTTP server for the whole session;
- ``external``: a Hub you run — ``FLAME_HUB_URL`` (gateway base, e.g. ``http://localhost:3000/``)
  or ``FLAME_HUB_AUTH_URL``/``FLAME_HUB_CORE_URL``/``FLAME_HUB_STORAGE_URL``, and
  ``FLAME_HUB_ADMIN_USERNAME``/``FLAME_HUB_ADMIN_PASSWORD`` (default admin/start123);
- ``testcontainers``: comes in a later issue.

``PYTEST_USE_TESTCONTAINERS=0`` (the original client's switch) means ``external``, ``1`` means
``testcontainers``, unless ``PYTEST_HUB`` is set in the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("fake", "external", "testcontainers")


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
                  admin_username=settings.get("FLAME_HUB_ADMIN_USERNAME") or "admin",
                  admin_password=settings.get("FLAME_HUB_ADMIN_PASSWORD") or "start123",
                  backend="external")


@pytest.fixture(scope="session")
def hub_env():
    """The Hub of this test session (``.url``, ``.auth_url``, ``.core_url``, ``.storage_url``,
    ``.admin_username``, ``.admin_password``, ``.fake``)."""
    settings = load_settings()
    try:
        backend = select_backend(settings)
    except ValueError as err:
        pytest.exit(str(err), returncode=4)
    if backend == "testcontainers":
        pytest.exit("PYTEST_HUB=testcontainers: the testcontainers backend comes in a later issue; "
                    "use PYTEST_HUB=fake (default) or PYTEST_HUB=external", returncode=4)
    if backend == "external":
        try:
            env = external_env(settings)
        except ValueError as err:
            pytest.exit(str(err), returncode=4)
        yield env
        return
    from flame_hub.testing import FakeHub

    with FakeHub() as hub:
        yield HubEnv(url=hub.url, auth_url=hub.auth_url, core_url=hub.core_url,
                     storage_url=hub.storage_url, fake=hub, backend="fake")


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
