"""Backend selection of tests/conftest.py and the shipped pytest plugin."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import FAKE_ERAS, ONE_ERA_MODULES, eras_of, external_env, fake_eras, load_settings, select_backend


@pytest.mark.parametrize("environ, files, expected", [
    ({}, {}, "fake"),
    ({}, {".env.test": "PYTEST_HUB=fake\n"}, "fake"),
    ({}, {".env.test": "PYTEST_HUB=fake\n", ".env": "PYTEST_HUB=external\n"}, "external"),
    ({"PYTEST_HUB": "fake"}, {".env": "PYTEST_HUB=external\n"}, "fake"),  # the environment wins
    ({}, {".env.test": "PYTEST_HUB=fake\n", ".env": "PYTEST_USE_TESTCONTAINERS=0\n"}, "external"),
    ({"PYTEST_USE_TESTCONTAINERS": "1"}, {".env.test": "PYTEST_HUB=fake\n"}, "testcontainers"),
    ({"PYTEST_HUB": "EXTERNAL"}, {}, "external"),
])
def test_backend_selection(tmp_path, environ, files, expected):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    settings = load_settings(tmp_path, environ)
    assert select_backend(settings, environ) == expected


def test_unknown_backend_is_refused(tmp_path):
    with pytest.raises(ValueError, match="PYTEST_HUB='docker'"):
        select_backend(load_settings(tmp_path, {"PYTEST_HUB": "docker"}), {"PYTEST_HUB": "docker"})


def test_external_urls_and_credentials():
    env = external_env({"FLAME_HUB_URL": "http://localhost:3000", "FLAME_HUB_PASSWORD": "pw"})
    assert (env.url, env.auth_url, env.core_url, env.storage_url) == (
        "http://localhost:3000/", "http://localhost:3000/auth/", "http://localhost:3000/core/",
        "http://localhost:3000/storage/")
    assert (env.admin_username, env.admin_password, env.fake) == ("admin", "pw", None)
    per_service = external_env({"FLAME_HUB_AUTH_URL": "http://a/", "FLAME_HUB_CORE_URL": "http://c",
                                "FLAME_HUB_STORAGE_URL": "http://s/"})
    assert (per_service.auth_url, per_service.core_url, per_service.storage_url) == (
        "http://a/", "http://c/", "http://s/")
    with pytest.raises(ValueError, match="FLAME_HUB_URL"):
        external_env({"FLAME_HUB_CORE_URL": "http://c/"})


def test_hub_env_on_the_fake_backend(hub_env, fake_hub, hub_era):
    if hub_env.fake is None:
        pytest.skip("runs on the fake backend only")
    assert hub_env.fake is fake_hub and fake_hub.running
    assert hub_env.core_url == fake_hub.core_url and hub_env.admin_username == "admin"
    assert fake_hub.version == hub_env.version == hub_era  # one session hub per era
    assert hub_env.dialect is fake_hub.dialect


def test_fake_eras_and_their_narrowing():
    assert fake_eras({}) == FAKE_ERAS == ("0.14.0", "0.8.5")
    assert fake_eras({"PYTEST_HUB_ERAS": " 0.8.5 "}) == ("0.8.5",)
    with pytest.raises(ValueError, match="0.12.0"):
        fake_eras({"PYTEST_HUB_ERAS": "0.8.5,0.12.0"})


class _Item:
    """What eras_of reads of a test item: its era marks and its module path."""

    def __init__(self, module: str, *marks: tuple) -> None:
        self.path = Path("tests") / module
        self._marks = [pytest.mark.era(*versions).mark for versions in marks]

    def iter_markers(self, name: str):
        return iter(self._marks if name == "era" else [])


def test_era_marks_and_one_era_modules():
    assert eras_of(_Item("test_clients_crud.py")) is None  # every era
    assert eras_of(_Item("test_clients_crud.py", ("0.8.5",))) == ("0.8.5",)
    assert eras_of(_Item("test_clients_crud.py", ("0.14.0", "0.8.5"))) == ("0.14.0", "0.8.5")
    module, era = next(iter(ONE_ERA_MODULES.items()))
    assert eras_of(_Item(module)) == (era,)
    assert eras_of(_Item(module, ("0.8.5",))) == ()  # a module for 0.14 and a test for 0.8.5: none


@pytest.mark.era("0.8.5")
def test_an_era_mark_runs_the_test_on_that_era_only(hub_env, hub_era):
    assert hub_era in (None, "0.8.5")  # None: a deployed Hub (skipped unless it is 0.8.5)
    assert hub_env.version == "0.8.5"


def test_shipped_pytest_plugin(tmp_path):
    test = tmp_path / "test_uses_plugin.py"
    test.write_text(textwrap.dedent("""
        import httpx

        def test_fake_hub(fake_hub):
            assert httpx.get(fake_hub.core_url).json()["version"] == "0.14.0"
            assert fake_hub.requests[-1].path == "/core/"
    """))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "flame_hub.testing.pytest_plugin",
                           "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(test)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout
