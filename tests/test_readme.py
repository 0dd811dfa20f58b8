"""The README's Python examples run, each on its own, against a fake Hub (so they cannot rot).

Every ```python block is a complete script — imports included — as a reader would paste it:
each runs in a fresh namespace against a fresh :class:`FakeHub`, with the gateway URL
``http://localhost:3000/`` replaced by the fake's URL, in an empty working directory. Blocks in
``text``, ``bash`` and other languages are not run, and every block must name its language (an
unlabelled fence could hide Python that nobody runs).
"""

from __future__ import annotations

import contextlib
import io
import re
import textwrap
from pathlib import Path

import _examples
import pytest
from _examples import GATEWAY, Block

from flame_hub.testing import FakeHub

README = Path(__file__).resolve().parents[1] / "README.md"


def code_blocks(text: str) -> list[Block]:
    """Every fenced block of a README text (the extractor of the documentation's examples)."""
    return _examples.code_blocks(README, text)


def python_blocks(text: str) -> list[Block]:
    return [b for b in code_blocks(text) if b.lang in ("python", "py")]


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def test_extraction_finds_indented_blocks_and_skips_other_languages():
    text = textwrap.dedent("""\
        ## One
        ```python
        print(1)
        ```
        - an item:

          ```python
          print(2)
          ```
        ```text
        print(3)
        ```
        ```bash
        python -c 'print(4)'
        ```
        ## Two
        ````python
        print('''
        ```
        ''')
        ````
        """)
    blocks = code_blocks(text)
    assert [(b.lang, b.section) for b in blocks] == [("python", "One"), ("python", "One"), ("text", "One"),
                                                    ("bash", "One"), ("python", "Two")]
    assert [b.code for b in python_blocks(text)] == ["print(1)\n", "print(2)\n", "print('''\n```\n''')\n"]
    assert blocks[1].line == 8  # the first line of code
    with pytest.raises(ValueError, match="unclosed"):
        code_blocks("```python\nprint(1)\n")


def test_every_readme_block_names_its_language():
    unlabelled = [b.where for b in code_blocks(README.read_text(encoding="utf-8")) if not b.lang]
    assert unlabelled == []


def test_readme_has_the_sections_users_look_for():
    titles = re.findall(r"^## (.+)$", README.read_text(encoding="utf-8"), re.M)
    for wanted in ("Quick start", "Using the clients", "Queries", "Errors",
                   "Async", "Retries and timeouts", "Compatibility", "Hub versions",
                   "Testing against a real Hub", "Performance",
                   "The fake Hub: test your scripts without a Hub", "Rows and DataFrames",
                   "Testing your code with pytest"):
        assert wanted in titles


def test_the_readme_has_python_examples_in_the_main_sections():
    sections = {b.section for b in BLOCKS}
    assert {"Using the clients", "Queries", "Errors", "Async", "Hub versions"} <= sections
    assert all(GATEWAY in b.code or "FakeHub" in b.code for b in BLOCKS if "CoreClient(" in b.code)


def run_block(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run one block on its own against a fresh fake Hub; returns what it printed."""
    monkeypatch.chdir(tmp_path)  # a block that writes files writes them here
    with FakeHub() as hub:
        code = block.code.replace(GATEWAY, hub.url)
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(code, block.where, "exec"), {"__name__": "__readme__"})  # noqa: S102
        except Exception as error:  # pragma: no cover - the message is the point
            pytest.fail(f"{block.where} failed on its own: {error!r}\n{block.code}")
    return out.getvalue()


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: f"line{b.line}")
def test_readme_python_block_runs_on_its_own(block, tmp_path, monkeypatch):
    printed = run_block(block, tmp_path, monkeypatch)
    if "print(visible)" in block.code:
        assert "GET /nodes?" in printed  # print(visible) shows the request, not data
    if 'core.nodes.sort("id")' in block.code:
        assert "cannot sort nodes" in printed  # the ValueError example printed its message
    if "except flame_hub.Conflict" in block.code:
        assert printed.startswith("409 ")
