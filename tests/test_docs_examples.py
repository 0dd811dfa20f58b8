"""Every Python example of the documentation site runs against a fake Hub.

The examples of each page run in order in one namespace against a fresh ``FakeHub`` (see
``tests/_examples.py`` for the rules: ```` ```python ```` blocks run, ```` ```text ```` and
```` ```bash ```` do not, the gateway ``http://localhost:3000/`` becomes the fake's URL,
``title="test_*.py"`` blocks run under pytest).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flame_hub.testing import FakeHub

from _examples import ExampleFailed, examples, fake_hub_options, run_examples

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "_hooks" not in p.parts)
#: the pages that teach: each must show (and so test) at least one example
GUIDES = ["index.md", "tutorial.md", "compatibility.md", *(f"how-to/{p.name}" for p in
                                                           sorted((DOCS / "how-to").glob("*.md")))]


def _id(page: Path) -> str:
    return page.relative_to(DOCS).as_posix()


@pytest.mark.parametrize("page", [p for p in PAGES if examples(p)], ids=_id)
def test_page_examples_run(page, tmp_path, monkeypatch):
    """Each page against a fresh fake Hub, in an environment like the reader's: the examples'
    gateway is the Hub, and ``FLAME_HUB_URL``/``_USERNAME``/``_PASSWORD`` point at it (for
    ``flame_hub.Hub()``), nothing else of ``FLAME_HUB_*`` is set."""
    monkeypatch.chdir(tmp_path)  # examples may write files
    for name in [n for n in os.environ if n.startswith("FLAME_HUB_")]:
        monkeypatch.delenv(name)
    with FakeHub(**fake_hub_options(page.read_text("utf-8"))) as hub:
        monkeypatch.setenv("FLAME_HUB_URL", hub.url)
        monkeypatch.setenv("FLAME_HUB_USERNAME", "admin")
        monkeypatch.setenv("FLAME_HUB_PASSWORD", "start123")
        run_examples(examples(page), hub.url, tmp_path=tmp_path)


@pytest.mark.parametrize("guide", GUIDES)
def test_every_guide_has_examples(guide):
    assert (DOCS / guide).exists(), f"{guide} is listed but missing"
    assert examples(DOCS / guide), f"{guide} has no ```python example"


def test_every_page_is_in_the_navigation():
    nav = (DOCS.parent / "mkdocs.yml").read_text("utf-8")
    for page in PAGES:
        assert _id(page) in nav, f"{_id(page)} is not in mkdocs.yml's nav"


# --- the extractor itself --------------------------------------------------------------------

SAMPLE = '''\
# Title

```python
x = 1
```

## Second { #second }

```bash
exit 1
```

```text
not python
```

- a list item:

    ```python
    y = x + 1
    ```

~~~python title="test_sample.py"
def test_one():
    assert True
~~~

<!-- fake-hub: version=0.8.5 -->
'''


def test_extractor_finds_python_blocks_with_lines_and_headings(tmp_path):
    found = examples(tmp_path / "sample.md", SAMPLE)
    assert [(e.line, e.heading, e.code, e.title) for e in found] == [
        (4, "Title", "x = 1\n", None),
        (20, "Second", "y = x + 1\n", None),
        (24, "Second", "def test_one():\n    assert True\n", "test_sample.py"),
    ]
    assert found[2].is_pytest_file and not found[0].is_pytest_file
    assert fake_hub_options(SAMPLE) == {"version": "0.8.5"}


def test_extractor_refuses_an_unclosed_fence(tmp_path):
    with pytest.raises(ValueError, match="sample.md:3: unclosed"):
        examples(tmp_path / "sample.md", "text\n\n```python\nx = 1\n")


def test_a_failing_example_names_its_line_and_the_gateway_is_replaced(tmp_path):
    doc = tmp_path / "page.md"
    doc.write_text("# Page\n\n```python\nurl = 'http://localhost:3000/core/'\n"
                   "assert url.startswith('http://127.0.0.1:1/')\nraise KeyError('boom')\n```\n")
    with pytest.raises(ExampleFailed, match=r"page.md:4 \[Page\].*KeyError") as info:
        run_examples(examples(doc), "http://127.0.0.1:1/", tmp_path=tmp_path)
    traceback = info.value.__cause__.__traceback__
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    assert traceback.tb_lineno == 6  # the line in page.md


def test_a_failing_pytest_block_fails(tmp_path):
    doc = tmp_path / "page.md"
    doc.write_text('```python title="test_x.py"\ndef test_x():\n    assert 1 == 2\n```\n')
    with pytest.raises(ExampleFailed, match="test_x.py"):
        run_examples(examples(doc), "http://127.0.0.1:1/", tmp_path=tmp_path)
