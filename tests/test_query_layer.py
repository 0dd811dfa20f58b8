"""The query layer stays sans-IO: no module of ``flame_hub/query/`` imports an I/O library or the
layers that do I/O (DESIGN.md "Layers": query plans, clients and the session send). Checked on
the source (every import statement, wherever it sits), so a new import fails here before it is
ever run."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import flame_hub.query

QUERY_DIR = Path(flame_hub.query.__file__).parent
PACKAGE = "flame_hub.query"

#: what a query module may not import: I/O libraries and the I/O layers of this package
FORBIDDEN = ("anyio", "asyncio", "trio", "sniffio", "httpx", "flame_hub.clients", "flame_hub._http",
             "flame_hub._flow")


def imported_modules(source: str, package: str = PACKAGE) -> list[str]:
    """Every module an import statement of ``source`` names, relative imports resolved against
    ``package`` (``from .._http import x`` in flame_hub.query -> ``flame_hub._http``;
    ``from .. import clients`` -> ``flame_hub.clients`` as well as ``flame_hub``)."""
    out: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            out.append(module)
            out.extend(f"{module}.{alias.name}" for alias in node.names)  # a submodule imported by name
    return out


def forbidden_imports(source: str, package: str = PACKAGE) -> list[str]:
    """The entries of :data:`FORBIDDEN` that ``source`` imports (or a submodule of)."""
    return sorted({f for m in imported_modules(source, package)
                   for f in FORBIDDEN if m == f or m.startswith(f + ".")})


def test_the_check_finds_forbidden_imports_in_every_spelling() -> None:
    source = "\n".join([
        "import anyio",
        "import httpx as h",
        "from asyncio import gather",
        "from .._http import HubSession",
        "from ..clients._base import AsyncClient",
        "from .. import _flow",
        "def later():",
        "    import trio.lowlevel",
        "from ._paging import Pager",  # allowed: its own package
        "from ..errors import NotFound",  # allowed: a layer below
    ])
    assert forbidden_imports(source) == ["anyio", "asyncio", "flame_hub._flow", "flame_hub._http",
                                         "flame_hub.clients", "httpx", "trio"]
    assert forbidden_imports("from ._paging import Pager\nfrom ..resources import Resource") == []


@pytest.mark.parametrize("path", sorted(QUERY_DIR.glob("*.py")), ids=lambda p: p.name)
def test_query_modules_import_no_io(path: Path) -> None:
    assert forbidden_imports(path.read_text(encoding="utf-8")) == [], (
        f"flame_hub/query/{path.name} imports an I/O library or layer; the query layer only plans "
        "(pages, ids) and the backend (flame_hub.clients) runs the requests")


def test_every_query_module_is_checked() -> None:
    """The glob above finds the modules (an empty parametrization would check nothing)."""
    names = {p.name for p in QUERY_DIR.glob("*.py")}
    assert {"__init__.py", "_queryset.py", "_bulk.py", "_paging.py", "_compile.py", "_lookups.py"} <= names
