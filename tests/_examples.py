"""Extract the Python examples of a Markdown document and run them against a fake Hub.

Used for the documentation site (``tests/test_docs_examples.py``) and usable for README.md.

- Every fenced block whose info string starts with ``python`` is an example; ```` ```text ````,
  ```` ```bash ```` and every other language are not run. Indented fences (inside list items)
  count too; their indentation is removed.
- The examples of one document run in order in one namespace, as a reader would type them into
  one session. Each is compiled with the document's path and its real line numbers, so a
  traceback points at the line of the ``.md`` file.
- Examples are written for the Hub's gateway ``http://localhost:3000/`` with the admin
  ``admin`` / ``start123`` a new Hub (and the fake Hub) has: :func:`run_examples` replaces the
  gateway by the fake Hub's URL.
- A block with ``title="test_....py"`` in its info string is a pytest file: it is written under
  that name to a temporary directory and run by pytest in a subprocess, which must pass.
- An HTML comment ``<!-- fake-hub: version=0.8.5 -->`` in a document sets the arguments of the
  fake Hub its examples run against (:func:`fake_hub_options`).
"""

from __future__ import annotations

import contextlib
import re
import shlex
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The gateway the examples are written for; replaced by the fake Hub's URL.
GATEWAY = "http://localhost:3000/"

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)(?:\s*\{[^}]*\})?\s*$")
_TITLE = re.compile(r"""title=["']([^"']+)["']""")
_OPTIONS = re.compile(r"<!--\s*fake-hub:(.*?)-->")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown document."""

    path: Path
    #: 1-based line number of the block's first line of code in the document
    line: int
    #: the nearest heading above the block ("" before the first one)
    heading: str
    code: str
    #: ``title="..."`` of the fence, if any
    title: str | None = None
    #: the fence's language, lower case ("" when unlabelled)
    lang: str = ""
    #: the nearest second-level (``## ``) heading above the block
    section: str = ""

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line} [{self.heading}]"

    @property
    def is_pytest_file(self) -> bool:
        return bool(self.title) and Path(self.title).name.startswith("test_") \
            and self.title.endswith(".py")


#: a Python example is a block whose language is python
Example = Block


def code_blocks(path: Path, text: str | None = None) -> list[Block]:
    """Every fenced block of a Markdown document, in order, indented ones (in list items)
    dedented. A fence closes on a bare fence of the same character at least as long (CommonMark)."""
    text = path.read_text("utf-8") if text is None else text
    out: list[Block] = []
    heading = section = ""
    fence: tuple[str, str, str, int] | None = None  # (indent, fence, info, first code line)
    body: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if fence is None:
            match = _FENCE.match(line)
            if match:
                fence = (match["indent"], match["fence"], match["info"].strip(), number + 1)
                body = []
            elif (h := _HEADING.match(line)) is not None:
                heading = h["title"].strip("` ")
                if line.startswith("## "):
                    section = heading
            continue
        indent, marker, info, first = fence
        closing = line.strip()
        if closing.startswith(marker[0] * len(marker)) and not closing.strip(marker[0]):
            words = info.split()
            title = _TITLE.search(info)
            out.append(Block(path, first, heading, textwrap.dedent("\n".join(body)) + "\n",
                             title[1] if title else None, words[0].lower() if words else "", section))
            fence = None
            continue
        body.append(line)
    if fence is not None:
        raise ValueError(f"{path.name}:{fence[3] - 1}: unclosed code fence")
    return out


def examples(path: Path, text: str | None = None) -> list[Block]:
    """Every Python example of a Markdown document, in order."""
    return [b for b in code_blocks(path, text) if b.lang in ("python", "py")]


def fake_hub_options(text: str) -> dict[str, Any]:
    """The ``FakeHub(...)`` arguments a document asks for: ``<!-- fake-hub: version=0.8.5 -->``."""
    options: dict[str, Any] = {}
    for match in _OPTIONS.finditer(text):
        for pair in shlex.split(match[1]):
            key, _, value = pair.partition("=")
            options[key] = value
    return options


class ExampleFailed(AssertionError):
    """An example raised; the message names the document, line and heading."""


def run_examples(items: list[Example], hub_url: str, *, tmp_path: Path) -> dict[str, Any]:
    """Run the examples of one document against the Hub at ``hub_url`` (a gateway URL ending
    with ``/``), in order and in one namespace; returns the namespace. Sync clients the
    examples leave open are closed."""
    namespace: dict[str, Any] = {"__name__": "__docs_example__"}
    try:
        for example in items:
            code = example.code.replace(GATEWAY, hub_url)
            if example.is_pytest_file:
                _run_pytest_file(example, code, tmp_path)
                continue
            padded = "\n" * (example.line - 1) + code  # tracebacks show the document's lines
            try:
                exec(compile(padded, str(example.path), "exec"), namespace)  # noqa: S102
            except Exception as error:
                raise ExampleFailed(f"example at {example.where} failed: {error!r}\n{code}") from error
    finally:
        _close_clients(namespace)
    return namespace


def _run_pytest_file(example: Example, code: str, tmp_path: Path) -> None:
    target = tmp_path / Path(example.title).name
    target.write_text(code, "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
         str(target)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    if result.returncode != 0 or " passed" not in result.stdout:
        raise ExampleFailed(f"pytest file {example.title} at {example.where} failed:\n"
                            f"{result.stdout[-3000:]}\n{result.stderr[-2000:]}")


def _close_clients(namespace: dict[str, Any]) -> None:
    from flame_hub.clients import SyncClient

    for value in list(namespace.values()):
        if isinstance(value, SyncClient):
            with contextlib.suppress(Exception):
                value.close()
