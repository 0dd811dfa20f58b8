"""examples/quickstart.py runs as a subprocess and prints the README flow's results."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "quickstart.py"
_HUB_VARS = ("FLAME_HUB_URL", "FLAME_HUB_AUTH_URL", "FLAME_HUB_CORE_URL", "FLAME_HUB_STORAGE_URL",
             "FLAME_HUB_USERNAME", "FLAME_HUB_PASSWORD", "FLAME_HUB_CLIENT_ID", "FLAME_HUB_CLIENT_SECRET",
             "FLAME_HUB_TOKEN")


def _run(extra_env: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items() if k not in _HUB_VARS}
    env.update(extra_env)
    done = subprocess.run([sys.executable, str(QUICKSTART)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _check(out: str) -> None:
    lines = out.splitlines()
    assert re.fullmatch(r"master realm: master [0-9a-f-]{36}", lines[1]), lines
    created = re.fullmatch(r"created node: (quickstart-[0-9a-f]{12}) ([0-9a-f-]{36}) hidden=False", lines[2])
    assert created, lines
    assert lines[3:] == [
        "updated node: hidden=True",
        "read back: hidden=True",
        "unknown id: None",
        f"deleted node: {created.group(2)}",
        "read after delete: None",
    ]


def test_quickstart_starts_an_embedded_fake_hub():
    out = _run({})
    assert out.splitlines()[0].startswith("Hub: embedded FakeHub at http://127.0.0.1:")
    _check(out)


def test_quickstart_uses_a_configured_hub(hub_env):
    credentials = {"FLAME_HUB_USERNAME": hub_env.admin_username, "FLAME_HUB_PASSWORD": hub_env.admin_password}
    if hub_env.url is not None:  # a gateway
        out = _run({"FLAME_HUB_URL": hub_env.url, **credentials})
        assert out.splitlines()[0] == f"Hub: {hub_env.url} (from FLAME_HUB_URL (environment))"
    else:  # a deployed Hub configured per service (FLAME_HUB_AUTH_URL, ...)
        urls = {f"FLAME_HUB_{s.upper()}_URL": getattr(hub_env, f"{s}_url") for s in ("auth", "core", "storage")}
        out = _run({**urls, **credentials})
        assert out.splitlines()[0] == f"Hub: {hub_env.core_url} (from " + ", ".join(
            f"{var} (environment)" for var in urls) + ")"
    _check(out)


def test_quickstart_refuses_a_partial_configuration():
    env = {k: v for k, v in os.environ.items() if k not in _HUB_VARS}
    env["FLAME_HUB_CORE_URL"] = "http://127.0.0.1:9/core/"
    done = subprocess.run([sys.executable, str(QUICKSTART)], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and "FLAME_HUB_AUTH_URL" in done.stderr
