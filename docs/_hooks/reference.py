"""MkDocs hook: the parts of the API reference that are generated from the code at build time.

The clients' helpers, QuerySets and models are built at import time from the resource registry
(:mod:`flame_hub.resources`), so no static analyser can see them. This hook imports
``flame_hub`` and renders, on every build,

- one page per service (``reference/core.md``, ``reference/storage.md``,
  ``reference/auth-service.md``): each resource with its QuerySet, the keys it can be filtered,
  sorted and included by on each Hub era, every generated helper with its signature and
  docstring, and its models with their fields;
- ``reference/clients.md``: the constructor and the members every client shares;
- ``reference/models.md``: every name of :mod:`flame_hub.models` that is not on a service page
  (enums, special and metadata models, base classes, functions).

A resource added to the registry documents itself. Hand-written modules (auth, errors, query,
types, dialects, testing) are rendered by mkdocstrings from ``::: name`` lines in their pages;
:class:`RstRoles` turns the docstrings' reST roles (``:class:`X```) into Markdown for it.

After the build, :func:`on_post_build` checks that every anchor the reference promises
(:func:`planned_anchors`) is in the HTML — each ``::: name`` and, for a class, each of its own
public methods and properties — so a name that silently failed to render fails the build.
``tests/test_docs_reference.py`` checks that the promises cover every public name.

This module imports nothing from MkDocs at module level: the tests load it without the
``docs`` extra.
"""

from __future__ import annotations

import enum
import html
import importlib
import inspect
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import flame_hub
import flame_hub.models as models
from flame_hub.clients import AsyncClient, SyncClient, helpers_of
from flame_hub.clients._base import resources_of_service
from flame_hub.clients._helpers import crud_helpers
from flame_hub.dialects import CURRENT, LEGACY
from flame_hub.query._compile import name_list, relation_filter_names
from flame_hub.resources import ERAS, Resource

#: service -> (page, title, sync client, async client)
SERVICES = {
    "core": ("reference/core.md", "Core service", flame_hub.CoreClient, flame_hub.AsyncCoreClient),
    "storage": ("reference/storage.md", "Storage service", flame_hub.StorageClient,
                flame_hub.AsyncStorageClient),
    "auth": ("reference/auth-service.md", "Auth service", flame_hub.AuthClient,
             flame_hub.AsyncAuthClient),
}
CLIENTS_PAGE = "reference/clients.md"
MODELS_PAGE = "reference/models.md"
#: what a variable of the example prose is called, per service
_VAR = {"core": "core", "storage": "storage", "auth": "auth_client"}


# --- docstrings and types as Markdown -----------------------------------------------------------

_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj):`(~?)([^`]+)`")


def markdown_of(doc: str | None) -> str:
    """A docstring as Markdown: reST roles become code spans (``~`` keeps the last part), a
    paragraph ending in ``::`` introduces the indented code block after it."""
    text = inspect.cleandoc(doc or "")
    text = _ROLE.sub(lambda m: f"`{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}`",
                     text)
    text = re.sub(r"(?m)\s*::$", lambda m: "" if m.group(0).startswith(" ") else ":", text)
    return text


def type_name(annotation: Any) -> str:
    """A readable type: ``Node | None`` rather than pydantic's ``Union[Annotated[...], NoneType]``."""
    if annotation is None or annotation is type(None):
        return "None"
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, typing.ForwardRef):
        return annotation.__forward_arg__
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        parts: list[str] = []
        for arg in args:
            name = type_name(arg)
            for part in name.split(" | "):
                if part not in parts:
                    parts.append(part)
        return " | ".join(p for p in parts if p != "None") + (" | None" if "None" in parts else "")
    if origin is typing.Literal:
        return "Literal[" + ", ".join(repr(a) for a in args) + "]"
    if origin is not None:
        base = getattr(origin, "__name__", str(origin))
        return f"{base}[{', '.join(type_name(a) for a in args)}]" if args else base
    return getattr(annotation, "__name__", str(annotation).replace("typing.", ""))


class _Shown:
    """An annotation as ``inspect`` should print it: the readable type, without quotes."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _parameters(signature: inspect.Signature) -> list[str]:
    """The parameters as ``inspect`` prints them, with the ``/`` and ``*`` markers."""
    out: list[str] = []
    params = list(signature.parameters.values())
    star = False
    for i, p in enumerate(params):
        if p.kind is p.KEYWORD_ONLY and not star:
            out.append("*")
        star = star or p.kind in (p.KEYWORD_ONLY, p.VAR_POSITIONAL)
        out.append(str(p))
        if p.kind is p.POSITIONAL_ONLY and (i + 1 == len(params)
                                            or params[i + 1].kind is not p.POSITIONAL_ONLY):
            out.append("/")
    return out


def signature_block(name: str, signature: inspect.Signature, *, prefix: str = "def") -> str:
    """A fenced Python block with the signature, one parameter per line when it is long."""
    empty = inspect.Signature.empty
    params = _parameters(signature.replace(parameters=[
        p.replace(annotation=_Shown(type_name(p.annotation))) if p.annotation is not empty else p
        for p in signature.parameters.values()]))
    ret = signature.return_annotation
    tail = "" if ret is empty or prefix == "class" else f" -> {type_name(ret)}"
    code = f"{prefix} {name}({', '.join(params)}){tail}"
    if len(code) > 96:
        code = f"{prefix} {name}(\n" + "".join(f"    {p},\n" for p in params) + f"){tail}"
    return f"```python\n{code}\n```\n"


# --- pages ---------------------------------------------------------------------------------------

@dataclass
class Page:
    """A generated page: its Markdown and the anchors (HTML ids) it promises."""

    path: str
    lines: list[str] = field(default_factory=list)
    anchors: list[str] = field(default_factory=list)

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def heading(self, level: int, text: str, anchor: str, *aliases: str) -> None:
        """A heading with ``anchor`` as its id, and empty anchors for further ids (the same
        member on the other client classes)."""
        self.anchors += [anchor, *aliases]
        self.add(f"{'#' * level} {text} {{ #{anchor} }}", "")
        if aliases:
            self.add("".join(f'<a id="{html.escape(a)}"></a>' for a in aliases), "")

    @property
    def markdown(self) -> str:
        return "\n".join(self.lines) + "\n"


def _render_helper(page: Page, helper: Any, sync: type, async_: type, level: int) -> None:
    page.heading(level, f"`{helper.name}()`", f"flame_hub.{sync.__name__}.{helper.name}",
                 f"flame_hub.{async_.__name__}.{helper.name}")
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
              *helper.signature.parameters.values()]
    page.add(signature_block(helper.name, helper.signature.replace(parameters=params)),
             markdown_of(helper.doc), "")


def _field_rows(model: type) -> list[str]:
    rows = ["| attribute | type | on the wire |", "|---|---|---|"]
    for name, info in model.model_fields.items():
        wire = info.serialization_alias or info.alias or name
        required = " (required)" if info.is_required() else ""
        rows.append(f"| `{name}`{required} | `{type_name(info.annotation)}` | `{wire}` |")
    return rows


def _render_model(page: Page, name: str, level: int) -> None:
    """A pydantic model: its docstring and its fields (none of pydantic's own machinery)."""
    model = getattr(models, name)
    page.heading(level, f"`{name}`", f"flame_hub.models.{name}")
    page.add(markdown_of(model.__doc__), "")
    if model.model_fields:
        page.add(*_field_rows(model), "")
    extra = model.model_config.get("extra")
    if extra == "allow":
        page.add("Unknown keys are kept (`model_extra`), so a newer Hub does not break parsing.", "")
    own = [m for m, v in vars(model).items() if not m.startswith(("_", "model_"))
           and (inspect.isfunction(v) or isinstance(v, (classmethod, staticmethod)))]
    for member in own:
        obj = getattr(model, member)
        page.add(f"**`{member}`**", "", signature_block(member, inspect.signature(obj)),
                 markdown_of(obj.__doc__), "")


def _render_enum(page: Page, name: str, level: int) -> None:
    enum_cls = getattr(models, name)
    page.heading(level, f"`{name}`", f"flame_hub.models.{name}")
    page.add(markdown_of(enum_cls.__doc__), "", "| member | value |", "|---|---|")
    page.add(*(f"| `{m.name}` | `{m.value!r}` |" for m in enum_cls), "")


def _render_other(page: Page, name: str, level: int, note: str) -> None:
    obj = getattr(models, name)
    page.heading(level, f"`{name}`", f"flame_hub.models.{name}")
    if inspect.isfunction(obj):
        page.add(signature_block(name, inspect.signature(obj)))
    page.add(markdown_of(obj.__doc__ if inspect.isfunction(obj) or inspect.isclass(obj) else "")
             or note, "")


def _eras_line(res: Resource) -> str:
    eras = [era for era in ERAS if res.eras[era].available]
    return "Hub " + " and ".join(eras)


def _allow_list_table(res: Resource) -> list[str]:
    """What a resource's QuerySet accepts on each era, in the Python names (and from the same
    functions) the query compiler uses in its refusals."""
    dialects = [d for d in (CURRENT, LEGACY) if res.eras[d.catalog_era].available]

    def keys(names: str) -> str:
        return "–" if names == "(none)" else ", ".join(f"`{n}`" for n in names.split(", "))

    rows = ["| | " + " | ".join(f"Hub {d.catalog_era}" for d in dialects) + " |",
            "|---" * (len(dialects) + 1) + "|"]
    for label, names in (
        ("filter by", lambda d: name_list(d.spec(res).filters)),
        ("filter through a relation", lambda d: relation_filter_names(d, res)),
        ("sort by", lambda d: name_list(d.spec(res).sorts)),
        ("include", lambda d: name_list(d.spec(res).relations)),
    ):
        rows.append(f"| {label} | " + " | ".join(keys(names(d)) for d in dialects) + " |")
    return rows


def service_page(service: str) -> Page:
    path, title, sync, async_ = SERVICES[service]
    var = _VAR[service]
    page = Page(path)
    page.add(f"# {title}", "",
             f"`{sync.__name__}` and its async twin `{async_.__name__}` (same helpers, awaitable). "
             "This page is generated from the resource registry (`flame_hub/resources.py`) on "
             "every build. The members every client shares (constructor, `with_options()`, "
             f"`close()`, ...) are on [Clients](clients.md).", "")
    page.heading(2, f"`{sync.__name__}`", f"flame_hub.{sync.__name__}")
    page.add(markdown_of(sync.__doc__), "", signature_block(sync.__name__, inspect.signature(sync),
                                                            prefix="class"))
    page.heading(2, f"`{async_.__name__}`", f"flame_hub.{async_.__name__}")
    page.add(markdown_of(async_.__doc__), "",
             signature_block(async_.__name__, inspect.signature(async_), prefix="class"))

    resources = resources_of_service(service)
    page.add("## Resources", "", "| QuerySet | model | helpers | Hub eras |", "|---|---|---|---|")
    emitted: set[str] = set()
    by_resource: dict[str, list[Any]] = {}
    all_helpers = {h.name: h for h in helpers_of(service)}
    for res in resources:
        mine = [all_helpers[h.name] for h in crud_helpers(res)
                if h.name in all_helpers and h.name not in emitted]
        emitted |= {h.name for h in mine}
        by_resource[res.name] = mine
        page.add(f"| [`{var}.{res.attr}`](#{res.name}) | `{res.model_name}` | "
                 f"{len(mine)} | {', '.join(e for e in ERAS if res.eras[e].available)} |")
    page.add("")

    for res in resources:
        page.heading(2, f"`{res.name}`", res.name, f"flame_hub.{sync.__name__}.{res.attr}",
                     f"flame_hub.{async_.__name__}.{res.attr}")
        page.add(f"`{var}.{res.attr}` is a lazy `QuerySet[{res.model_name}]` (`AsyncQuerySet` on "
                 f"`{async_.__name__}`) over `{res.eras[ERAS[0]].path or res.eras[ERAS[1]].path}`, "
                 f"on {_eras_line(res)}. Keys outside these lists are refused before anything is "
                 "sent:", "", *_allow_list_table(res), "")
        for helper in by_resource[res.name]:
            _render_helper(page, helper, sync, async_, 3)
        _render_model(page, res.model_name, 3)
        for kind in ("Create", "Update"):
            name = kind + res.model_name
            if name in models.REQUEST_MODELS:
                _render_model(page, name, 3)

    special = [h for h in helpers_of(service) if h.name not in emitted]
    if special:
        page.add("## Special operations", "",
                 "Commands, credentials, scoped deletes, uploads, streams and downloads.", "")
        for helper in special:
            _render_helper(page, helper, sync, async_, 3)
    return page


def _shared_members(classes: list[type]) -> list[str]:
    """Public members the client classes share that are neither helpers nor QuerySets."""
    generated = {h.name for s in SERVICES for h in helpers_of(s)}
    generated |= {r.attr for s in SERVICES for r in resources_of_service(s)}
    return [m for m in dir(classes[0]) if not m.startswith("_") and m not in generated]


def clients_page() -> Page:
    page = Page(CLIENTS_PAGE)
    page.heading(1, "Clients", "flame_hub.clients")
    page.add(markdown_of(flame_hub.clients.__doc__), "",
             "Generated from the client classes on every build. The helpers and QuerySets of "
             "each service are on [Core](core.md), [Storage](storage.md) and "
             "[Auth](auth-service.md).", "")
    for base, concrete in ((SyncClient, [s[2] for s in SERVICES.values()]),
                           (AsyncClient, [s[3] for s in SERVICES.values()])):
        page.heading(2, f"`{base.__name__}`", f"flame_hub.clients.{base.__name__}")
        page.add(markdown_of(base.__doc__), "", "Base of " + ", ".join(
            f"`{c.__name__}`" for c in concrete) + ".", "",
            signature_block(base.__name__, inspect.signature(base), prefix="class"),
            markdown_of(base.__init__.__doc__), "")
        for member in _shared_members(concrete):
            attr = inspect.getattr_static(concrete[0], member)
            aliases = [f"flame_hub.{c.__name__}.{member}" for c in concrete]
            primary = (f"flame_hub.clients.{base.__name__}.{member}" if hasattr(base, member)
                       else aliases.pop(0))  # set by each concrete class (``service``)
            page.heading(3, f"`{member}`", primary, *aliases)
            if isinstance(attr, property):
                ret = inspect.signature(attr.fget).return_annotation
                page.add(f"```python\n{member}: {type_name(ret)}  # property\n```\n",
                         markdown_of(attr.fget.__doc__), "")
            elif not callable(attr):
                values = ", ".join(f"`{c.__name__}`: `{getattr(c, member)!r}`" for c in concrete)
                page.add(f"```python\n{member}: {type(attr).__name__}  # class attribute\n```\n",
                         values, "")
            else:
                func = getattr(base, member)
                is_async = inspect.iscoroutinefunction(func)
                page.add(signature_block(member, inspect.signature(func),
                                         prefix="async def" if is_async else "def"),
                         markdown_of(func.__doc__), "")
    return page


def models_page(documented: set[str]) -> Page:
    page = Page(MODELS_PAGE)
    page.heading(1, "Models", "flame_hub.models")
    page.add(markdown_of(models.__doc__), "",
             "Generated on every build. The read, create and update model of each resource are "
             "documented with it on [Core](core.md), [Storage](storage.md) and "
             "[Auth](auth-service.md); this page has everything else in `flame_hub.models`.", "")
    rest = [n for n in models.__all__ if f"flame_hub.models.{n}" not in documented]
    enums = [n for n in rest if isinstance(getattr(models, n), type)
             and issubclass(getattr(models, n), enum.Enum)]
    pyd = [n for n in rest if n not in enums and isinstance(getattr(models, n), type)
           and hasattr(getattr(models, n), "model_fields")]
    other = [n for n in rest if n not in enums and n not in pyd]
    page.add("## Enums", "", "Values the Hub uses, from the resource catalog. Arguments that take "
             "an enum also accept its value as a string.", "")
    for name in enums:
        _render_enum(page, name, 3)
    page.add("## Other models and base classes", "")
    for name in pyd:
        _render_model(page, name, 3)
    page.add("## Functions and constants", "")
    for name in other:
        _render_other(page, name, 3, _CONSTANTS.get(name, ""))
    return page


_CONSTANTS = {
    "ENUMS": "Every enum of this module, by name.",
    "READ_MODELS": "Every read model, by name (one per registry resource, plus `Log`).",
    "REQUEST_MODELS": "Every request model, by name (`CreateNode`, `UpdateNode`, ...).",
    "IdLike": "A UUID field that also accepts a UUID string or a model with `.id`.",
    "UnsetType": "The type of `UNSET`, for annotations.",
}


def generated_pages() -> list[Page]:
    pages = [service_page(s) for s in SERVICES] + [clients_page()]
    documented = {a for p in pages for a in p.anchors}
    return [*pages, models_page(documented)]


# --- what the reference promises -----------------------------------------------------------------

_DIRECTIVE = re.compile(r"^::: ([\w.]+)\s*$", re.M)
_ANCHOR = re.compile(r'\{\s*#([\w.-]+)\s*\}|<a id="([^"]+)"></a>')


def planned_anchors(docs_dir: Path) -> dict[str, str]:
    """Every HTML id the reference promises -> the page (docs-relative) that must have it:
    the generated pages' anchors, each ``::: name`` directive and each ``{ #id }`` heading
    of the hand-written reference pages."""
    out = {a: p.path for p in generated_pages() for a in p.anchors}
    for md in sorted((docs_dir / "reference").glob("*.md")):
        text = md.read_text("utf-8")
        rel = md.relative_to(docs_dir).as_posix()
        anchors = [a or b for a, b in _ANCHOR.findall(text)]
        for ident in [*_DIRECTIVE.findall(text), *anchors]:
            out.setdefault(ident, rel)
            for member in _class_members(ident):
                out.setdefault(f"{ident}.{member}", rel)
    return out


#: members the mkdocstrings filters of mkdocs.yml leave out (httpx's auth-flow protocol)
_FILTERED = {"auth_flow", "sync_auth_flow", "async_auth_flow"}


def _class_members(ident: str) -> list[str]:
    """The public methods and properties a ``::: flame_hub...Class`` directive renders (its own,
    not inherited), so that a control added to e.g. ``FakeHub`` must show up in the HTML."""
    module_name, _, name = ident.rpartition(".")
    if not module_name.startswith("flame_hub"):
        return []
    try:
        cls = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        return []  # tests/test_docs_reference.py names the typo
    if not inspect.isclass(cls) or issubclass(cls, enum.Enum) or hasattr(cls, "model_fields"):
        return []
    return [m for m, v in vars(cls).items() if not m.startswith("_") and m not in _FILTERED
            and (inspect.isfunction(v) or isinstance(v, (property, classmethod, staticmethod)))]


# --- MkDocs events -------------------------------------------------------------------------------

def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for page in generated_pages():
        files.append(File.generated(config, page.path, content=page.markdown))
    return files


_README_SECTION = re.compile(r"<!-- readme-section: (.+?) -->")


def readme_section(readme: str, title: str) -> str:
    """The body of the README's ``## title`` section (up to the next ``## ``)."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", readme, re.M | re.S)
    if match is None:
        raise ValueError(f"README.md has no '## {title}' section")
    return match.group(1).strip() + "\n"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """``<!-- readme-section: Title -->`` in a page becomes that README section: one text for
    facts the README already states (the README stays the source)."""
    if "readme-section:" not in markdown:
        return markdown
    readme = (Path(config["config_file_path"]).parent / "README.md").read_text("utf-8")
    return _README_SECTION.sub(lambda m: readme_section(readme, m.group(1)), markdown)


_ID = re.compile(r'\sid="([^"]+)"')


def missing_anchors(site_dir: Path, docs_dir: Path) -> list[str]:
    """The promised anchors (:func:`planned_anchors`) that the built HTML lacks."""
    ids: dict[Path, set[str]] = {}
    missing = []
    for anchor, page in planned_anchors(docs_dir).items():
        stem = page[: -len(".md")]
        html_file = site_dir / (stem[: -len("index")] if stem.endswith("index") else stem + "/") / "index.html"
        if html_file not in ids:
            ids[html_file] = (set(map(html.unescape, _ID.findall(html_file.read_text("utf-8"))))
                              if html_file.exists() else set())
        if anchor not in ids[html_file]:
            missing.append(f"{anchor} (on {page})")
    return missing


def on_post_build(config: Any) -> None:
    from mkdocs.exceptions import PluginError

    missing = missing_anchors(Path(config["site_dir"]), Path(config["docs_dir"]))
    if missing:
        raise PluginError("the reference promises these names but the built pages lack them:\n  "
                          + "\n  ".join(missing))


# --- griffe (mkdocstrings) extension -------------------------------------------------------------

try:
    import griffe
except ImportError:  # the tests load this module without the docs extra
    griffe = None

if griffe is not None:
    class RstRoles(griffe.Extension):
        """Docstrings use reST roles (``:class:`X```); mkdocstrings renders Markdown."""

        def on_object(self, *, obj: Any, **kwargs: Any) -> None:
            if obj.docstring is not None:
                obj.docstring.value = markdown_of(obj.docstring.value)
