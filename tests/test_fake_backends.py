"""Backend selection of tests/conftest.py and the shipped pytest plugin."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from conftest import external_env, load_settings, select_backend


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
    env = external_env({"FLAME_HUB_URL": "http://localhost:3000", "FLAME_HUB_ADMIN_PASSWORD": "pw"})
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


def test_hub_env_on_the_fake_backend(hub_env, fake_hub):
    if hub_env.fake is None:
        pytest.skip("runs on the fake backend only")
    assert hub_env.fake is fake_hub and fake_hub.running
    assert hub_env.core_url == fake_hub.core_url and hub_env.admin_username == "admin"


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
