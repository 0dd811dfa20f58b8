"""What an editor infers for the README's examples: mypy on ``tests/typing/``.

Every ``reveal_type(x)  # revealed: T`` there must reveal exactly ``T``, and every
``assert_type`` must hold (mypy reports a failed one as an error), under ``--strict``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api", reason="needs mypy (the lint extra, part of test)")

TYPING = Path(__file__).parent / "typing"
_NOTE = re.compile(r'^(?P<file>[^:]+):(?P<line>\d+): note: Revealed type is "(?P<type>.*)"$')


def _expected() -> dict[tuple[str, int], str]:
    out = {}
    for path in sorted(TYPING.glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "reveal_type(" in line and "# revealed: " in line:
                out[(path.name, number)] = line.split("# revealed: ", 1)[1].strip()
    return out


def test_the_readme_examples_have_the_types_an_editor_shows(tmp_path: Path) -> None:
    expected = _expected()
    assert len(expected) >= 5
    stdout, stderr, status = api.run([
        "--strict", "--follow-imports=silent", "--no-error-summary", "--cache-dir", str(tmp_path),
        str(TYPING)])
    errors = [line for line in stdout.splitlines() if ": error: " in line]
    assert status == 0 and not errors, stdout + stderr
    revealed = {}
    for line in stdout.splitlines():
        match = _NOTE.match(line)
        if match:
            revealed[(Path(match["file"]).name, int(match["line"]))] = match["type"]
    assert revealed == expected
