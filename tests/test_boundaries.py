"""Module boundaries of the package (issue 13): no module of ``flame_hub`` reaches into another's
private names — neither ``from .x import _name`` nor ``thing._name`` on something imported from
the package. (Private *modules* such as ``._flow`` are the package's internal layout and fine;
``__dunder__`` names are not private.)"""

from __future__ import annotations

import ast
from pathlib import Path

import flame_hub

PACKAGE = Path(flame_hub.__file__).parent


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _is_module(base: Path, name: str) -> bool:
    return (base / f"{name}.py").exists() or (base / name / "__init__.py").exists()


def violations(path: Path, source: str) -> list[str]:
    """Every reach into another module's private names in ``source`` (the file at ``path``)."""
    tree = ast.parse(source)
    found: list[str] = []
    ours: set[str] = set()  # names bound to something imported from the package
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            own = node.level > 0 or (node.module or "").split(".")[0] == "flame_hub"
            if not own:
                continue
            if node.level:
                base = path.parent
                for _ in range(node.level - 1):
                    base = base.parent
            else:
                base = PACKAGE.parent
            base = base.joinpath(*(node.module or "").split(".")) if node.module else base
            for alias in node.names:
                ours.add(alias.asname or alias.name)
                if _private(alias.name) and not _is_module(base, alias.name):
                    found.append(f"{path.name}:{node.lineno}: imports {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "flame_hub":
                    ours.add((alias.asname or alias.name).split(".")[0])
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ours
                and _private(node.attr)):
            found.append(f"{path.name}:{node.lineno}: uses {node.value.id}.{node.attr}")
    return found


def test_no_module_reaches_into_another_modules_private_names():
    found = [v for path in sorted(PACKAGE.rglob("*.py")) for v in violations(path, path.read_text())]
    assert found == []


def test_the_check_catches_both_spellings():
    here = PACKAGE / "query" / "_find.py"
    source = ("from ._lookups import Q, _secret\nfrom . import _lookups\nfrom ..errors import HubError\n"
              "import sys\nQ._make(())\nHubError._x\nsys._getframe()\n_lookups.make_condition\n")
    assert sorted(violations(here, source)) == ["_find.py:1: imports _secret", "_find.py:5: uses Q._make",
                                                "_find.py:6: uses HubError._x"]
