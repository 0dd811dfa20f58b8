"""The README's Python examples run, in order, against a fake Hub (so they cannot rot).

Blocks are executed in one namespace, as a reader would type them into one session; the
gateway URL ``http://localhost:3000/`` is replaced by a fresh fake Hub's URL.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flame_hub.testing import FakeHub

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(text: str) -> list[tuple[str, str]]:
    """(section title, code) of every ```python block, in order."""
    out = []
    for match in BLOCK.finditer(text):
        titles = re.findall(r"^## (.+)$", text[: match.start()], re.M)
        out.append((titles[-1] if titles else "", match.group(1)))
    return out


def test_readme_has_the_sections_users_look_for():
    titles = re.findall(r"^## (.+)$", README.read_text(), re.M)
    for wanted in ("Quick start", "Using the clients", "Queries", "Errors",
                   "Async", "Retries and timeouts", "Compatibility", "Hub versions",
                   "Testing against a real Hub", "Performance",
                   "The fake Hub: test your scripts without a Hub"):
        assert wanted in titles


def test_readme_python_examples_run(capsys):
    blocks = python_blocks(README.read_text())
    assert any(title == "Queries" for title, _ in blocks)
    with FakeHub() as hub:
        namespace: dict = {"__name__": "readme"}
        for title, code in blocks:
            code = code.replace("http://localhost:3000/", hub.url)
            try:
                exec(compile(code, f"README.md [{title}]", "exec"), namespace)  # noqa: S102
            except Exception as error:  # pragma: no cover - the message is the point
                pytest.fail(f"README example in section {title!r} failed: {error!r}\n{code}")
        for name in ("auth_client", "core", "storage"):
            if hasattr(namespace.get(name), "close"):
                namespace[name].close()
    out = capsys.readouterr().out
    assert "GET /nodes?" in out  # print(visible) shows the request, not data
    assert "cannot sort nodes" in out  # the ValueError example printed its message
