"""The documentation site's API reference lists every public name.

The reference is partly generated (``docs/_hooks/reference.py``: clients, helpers, QuerySets,
models) and partly rendered by mkdocstrings from ``::: name`` lines in ``docs/reference/*.md``.
Here the promises of both (:func:`planned_anchors`) are compared with what the package exports;
``mkdocs build --strict`` (CI) then fails if a promised anchor is missing from the HTML. This
test needs no MkDocs.
"""

from __future__ import annotations

import importlib
import re
import importlib.util
import sys
from pathlib import Path

import pytest

import flame_hub

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CLIENTS = ("CoreClient", "StorageClient", "AuthClient",
           "AsyncCoreClient", "AsyncStorageClient", "AsyncAuthClient")


@pytest.fixture(scope="module")
def hook():
    name = "flame_hub_docs_reference_hook"
    spec = importlib.util.spec_from_file_location(name, DOCS / "_hooks" / "reference.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(name, None)


@pytest.fixture(scope="module")
def planned(hook) -> dict[str, str]:
    return hook.planned_anchors(DOCS)


def _public(module_name: str) -> list[tuple[str, list[str]]]:
    """(name, the anchors that would document it) for every name in a module's ``__all__``."""
    module = importlib.import_module(module_name)
    out = []
    for name in module.__all__:
        obj = getattr(module, name)
        accepted = [f"{module_name}.{name}"]
        if getattr(obj, "__name__", None) and isinstance(obj, type(sys)):  # a submodule
            accepted.append(obj.__name__)
        home = getattr(obj, "__module__", None)
        if isinstance(home, str) and home.startswith("flame_hub"):
            accepted.append(f"{home}.{name}")  # re-exported, documented where it is defined
        out.append((name, accepted))
    return out


@pytest.mark.parametrize("module_name", ["flame_hub", "flame_hub.auth", "flame_hub.models",
                                         "flame_hub.types", "flame_hub.testing"])
def test_every_public_name_is_in_the_reference(module_name, planned):
    names = _public(module_name)
    assert names, f"{module_name} exports nothing?"
    missing = [name for name, accepted in names if not any(a in planned for a in accepted)]
    assert not missing, f"not in the API reference: {module_name}.{{{', '.join(missing)}}}"


@pytest.mark.parametrize("client", CLIENTS)
def test_every_client_member_is_in_the_reference(client, planned):
    cls = getattr(flame_hub, client)
    members = [m for m in dir(cls) if not m.startswith("_")]
    assert len(members) > 10
    missing = [m for m in members if f"flame_hub.{client}.{m}" not in planned]
    assert not missing, f"{client} members missing from the API reference: {missing}"


def test_every_helper_of_every_registry_resource_is_on_its_service_page(hook):
    """A resource added to the registry documents itself: its helpers, QuerySet and model are
    on the generated service page, with signature and docstring."""
    from flame_hub.clients import helpers_of
    from flame_hub.clients._base import resources_of_service

    for service, (path, _title, sync, _async) in hook.SERVICES.items():
        page = hook.service_page(service)
        assert page.path == path
        for helper in helpers_of(service):
            assert f"#flame_hub.{sync.__name__}.{helper.name} }}" in page.markdown
            assert f"def {helper.name}(" in page.markdown
            first_sentence = hook.markdown_of(helper.doc).split(".")[0]
            assert first_sentence in page.markdown
        for res in resources_of_service(service):
            assert f"`{res.name}` {{ #{res.name} }}" in page.markdown
            model = f"{{ #flame_hub.models.{res.model_name} }}"
            assert model in page.markdown


def test_models_show_fields_not_pydantic_internals(hook):
    page = hook.service_page("core").markdown
    node = page[page.index("{ #flame_hub.models.Node }"):]
    node = node[: node.index("{ #flame_hub.models.CreateNode }")]
    assert "| `realm_id` | `UUID | str | None` | `realmId` |" in node
    assert "| `registry` | `Registry | None` | `registry` |" in node
    for noise in ("model_config", "model_fields", "FieldInfo", "Annotated", "NoneType",
                  "model_validate"):
        assert noise not in node


def _resolve(path: str):
    """The object a dotted path names: the longest importable module, then attributes."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for part in parts[i:]:
            obj = getattr(obj, part)
        return obj
    raise ImportError(path)


def test_reference_anchors_name_real_objects(planned):
    """A typo in a ``::: name`` line would otherwise surface only in the docs build."""
    dotted = [a for a in planned if a.startswith("flame_hub")]
    assert len(dotted) > 300
    for anchor in dotted:
        try:
            _resolve(anchor)
        except (ImportError, AttributeError):
            pytest.fail(f"the reference names {anchor}, which does not exist")


def test_docstring_roles_become_markdown(hook):
    text = hook.markdown_of("""See :class:`~flame_hub.query.Q` and :func:`flame_hub.query.compile_query`.

    Example::

        core.nodes.count()
    """)
    assert text.startswith("See `Q` and `flame_hub.query.compile_query`.")
    assert "Example:\n\n    core.nodes.count()" in text


def test_readme_sections_the_site_reuses_exist(hook):
    """``<!-- readme-section: X -->`` pulls README's ``## X`` into a page at build time."""
    readme = (ROOT / "README.md").read_text("utf-8")
    markers = [(page, title) for page in DOCS.rglob("*.md")
               for title in hook._README_SECTION.findall(page.read_text("utf-8"))]
    assert markers, "no page reuses a README section any more: drop this test"
    for page, title in markers:
        body = hook.readme_section(readme, title)
        assert len(body) > 200 and "\n## " not in body, (page, title)
    with pytest.raises(ValueError, match="no '## Nope' section"):
        hook.readme_section(readme, "Nope")


def test_signatures_read_like_python(hook):
    import inspect

    def f(a, /, b: int | None = None, *, c: dict[str, int] = None) -> list[str]:  # strings here
        pass

    assert hook.signature_block("f", inspect.signature(f)) == (
        "```python\ndef f(a, /, b: int | None = None, *, c: dict[str, int] = None) -> list[str]\n```\n")
    long = hook.signature_block("CoreClient", inspect.signature(flame_hub.CoreClient), prefix="class")
    assert long.startswith("```python\nclass CoreClient(\n    base_url: str | None = None,\n")
    assert "    *,\n    client: httpx.Client | httpx.AsyncClient | None = None,\n" in long
    assert "'" not in long and long.endswith("\n)\n```\n")


def test_the_build_check_finds_names_missing_from_the_html(hook, planned, tmp_path):
    """What ``on_post_build`` runs: every promised anchor must be an id in its built page."""
    pages = sorted(set(planned.values()))
    for page in pages:  # a site whose pages have every promised id but one
        stem = page[: -len(".md")]
        target = tmp_path / (stem[: -len("index")] if stem.endswith("index") else stem + "/")
        target.mkdir(parents=True, exist_ok=True)
        ids = [a for a, p in planned.items() if p == page and a != "flame_hub.auth.StaticAuth"]
        (target / "index.html").write_text("".join(f'<h2 id="{a}">x</h2>' for a in ids))
    assert hook.missing_anchors(tmp_path, DOCS) == ["flame_hub.auth.StaticAuth (on reference/auth.md)"]
    (tmp_path / "reference" / "core" / "index.html").unlink()
    assert len(hook.missing_anchors(tmp_path, DOCS)) > 100


def test_the_command_line_reference_shows_the_real_help(monkeypatch, capsys):
    """``docs/reference/cli.md`` quotes ``flame-hub ... --help``; each quote must be what the
    command prints (80 columns), so a changed option shows up here."""
    pytest.importorskip("click", reason="the cli extra (click) is not installed")
    from flame_hub.cli._app import run

    monkeypatch.setenv("COLUMNS", "80")
    page = (DOCS / "reference" / "cli.md").read_text("utf-8")
    quoted = re.findall(r"```text\n\$ flame-hub ((?:[\w-]+ )*)--help\n(.*?)```", page, re.S)
    assert len(quoted) >= 10
    commands = set()
    for command, shown in quoted:
        assert run([*command.split(), "--help"]) == 0
        assert shown == capsys.readouterr().out, \
            f"flame-hub {command}--help changed: update docs/reference/cli.md"
        commands.add(command.split()[-1] if command else "")
    # every command a resource can have is quoted once (for nodes)
    assert {"list", "count", "get", "create", "update", "delete", "upload", "download",
            "tarball", "command", "whoami", ""} <= commands


@pytest.mark.parametrize("anchor", [
    *(f"flame_hub.testing.FakeHub.{m}" for m in (
        "progress", "fail", "pending", "auto_progress", "expire_tokens", "fail_next", "drop_next",
        "seed", "records", "reset", "transport", "clear_requests", "requests", "latency")),
    *(f"flame_hub.query.{cls}.{m}" for cls in ("QuerySet", "AsyncQuerySet")
      for m in ("delete", "update", "to_pandas", "to_polars", "list", "pages")),
    *(f"flame_hub.query.BaseQuerySet.{m}" for m in ("values", "values_list", "filter", "sort")),
    "flame_hub.query.BulkOperationError", "flame_hub.cli.main",
    *(f"flame_hub.{c}.{m}" for c in ("CoreClient", "AsyncCoreClient")
      for m in ("wait_for", "wait_for_records")),
    *(f"pytest_flame_hub.{f}" for f in ("fake_hub", "fake_hub_session", "hub", "async_hub")),
])
def test_the_features_since_the_first_reference_are_in_it(anchor, planned):
    """The members of a hand-documented class are promised one by one (the build then fails
    when one does not render), as are the waiters, bulk operations, rows and the fake Hub's
    controls of the Hub's asynchronous work."""
    assert anchor in planned
