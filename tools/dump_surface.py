"""Dump the public surface of whichever ``flame_hub`` is importable, as JSON.

The surface is what a script written against the package can touch: every name that
``flame_hub``, ``flame_hub.auth``, ``flame_hub.types`` and ``flame_hub.models`` export (their
``__all__``), each with its kind and its shape:

- ``module``; ``value`` (with its Python type: ``__version__``, ``__version_info__``);
- ``enum`` with its members (name -> value) and whether it is a ``str`` Enum;
- ``Literal`` with its members; ``TypedDict`` with its keys and which are required;
- ``TypeVar``; ``alias`` (a union or generic alias such as ``FilterParams``);
- ``model`` (a pydantic model) with its fields (name -> required);
- ``protocol``; ``class`` (anything else) with its public methods' parameters;
- ``function`` with its parameters.

A parameter is ``[name, kind, default]``: kind is ``positional`` (positional-or-keyword) or
``keyword`` (keyword-only), default is ``"<required>"``, ``"<UNSET>"`` (the "not given"
sentinel) or the JSON value. ``**params: Unpack[SomeKwargs]`` is expanded into the keyword
parameters the TypedDict declares (that is how flame-hub-client 1.x spells ``auth=``,
``fields=``, ``filter=``...); any other ``**kwargs`` is ``[name, "var_keyword", "<required>"]``.

Run it with the interpreter that has the package to dump::

    /tmp/venv110/bin/python tools/dump_surface.py > tests/data/surface-1.1.0.json
    python tools/dump_surface.py                     # this repository's package

``tests/test_surface.py`` holds this package against the committed dump of 1.1.0.
"""

from __future__ import annotations

import enum
import inspect
import json
import sys
import types
import typing
from typing import Any

MODULES = ("flame_hub", "flame_hub.auth", "flame_hub.types", "flame_hub.models")
REQUIRED = "<required>"
UNSET_MARK = "<UNSET>"

try:  # both spellings of Unpack/TypedDict checks (typing_extensions is a pydantic dependency)
    import typing_extensions as te
except ImportError:  # pragma: no cover
    te = typing  # type: ignore[assignment]


def _is_unset(value: Any) -> bool:
    return isinstance(value, type) and value.__name__ == "UNSET"


def _json_default(value: Any) -> Any:
    if value is inspect.Parameter.empty:
        return REQUIRED
    if _is_unset(value):
        return UNSET_MARK
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, bool)) for v in value):
        return list(value)
    return f"<{type(value).__name__}>"


def _unpacked(annotation: Any, module: Any) -> dict[str, Any] | None:
    """The TypedDict of ``**params: Unpack[X]`` (or ``None``)."""
    if isinstance(annotation, str):
        if not annotation.startswith(("te.Unpack[", "Unpack[", "typing_extensions.Unpack[")):
            return None
        name = annotation.split("[", 1)[1].rstrip("]")
        target = getattr(module, name, None)
    else:
        if typing.get_origin(annotation) not in (getattr(te, "Unpack", None), getattr(typing, "Unpack", None)):
            return None
        target = typing.get_args(annotation)[0]
    return typing.get_type_hints(target) if target is not None else None


def _params(func: Any) -> list[list[Any]]:
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return []
    module = sys.modules.get(getattr(func, "__module__", "") or "")
    out: list[list[Any]] = []
    for p in sig.parameters.values():
        if p.name == "self":
            continue
        if p.kind is p.VAR_KEYWORD:
            keys = _unpacked(p.annotation, module)
            if keys is not None:
                out += [[k, "keyword", "<optional>"] for k in keys]
            else:
                out.append([p.name, "var_keyword", REQUIRED])
            continue
        if p.kind is p.VAR_POSITIONAL:
            out.append([p.name, "var_positional", REQUIRED])
            continue
        kind = "keyword" if p.kind is p.KEYWORD_ONLY else "positional"
        out.append([p.name, kind, _json_default(p.default)])
    return out


def _methods(cls: type) -> dict[str, Any]:
    out = {}
    for name in sorted(dir(cls)):
        if name.startswith("_") and name != "__init__":
            continue
        member = inspect.getattr_static(cls, name, None)
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if inspect.isfunction(member) and member.__qualname__.split(".")[0] != "object":
            if name == "__init__" and member is object.__init__:
                continue
            out[name] = _params(member)
    return out


def _is_model(obj: Any) -> bool:
    try:
        from pydantic import BaseModel
    except ImportError:  # pragma: no cover
        return False
    return isinstance(obj, type) and issubclass(obj, BaseModel)


def describe(obj: Any) -> dict[str, Any]:
    """Kind and shape of one public name."""
    if isinstance(obj, types.ModuleType):
        return {"kind": "module"}
    if isinstance(obj, typing.TypeVar):
        return {"kind": "TypeVar"}
    if typing.get_origin(obj) is typing.Literal:
        return {"kind": "Literal", "members": sorted(str(a) for a in typing.get_args(obj))}
    if isinstance(obj, type) and issubclass(obj, enum.Enum):
        return {"kind": "enum", "str": issubclass(obj, str),
                "members": {m.name: m.value for m in obj}}
    if te.is_typeddict(obj) or typing.is_typeddict(obj):
        return {"kind": "TypedDict", "keys": sorted(obj.__annotations__),
                "required": sorted(getattr(obj, "__required_keys__", ()))}
    if _is_model(obj):
        fields = {name: f.is_required() for name, f in obj.model_fields.items()}
        return {"kind": "model", "fields": fields}
    if isinstance(obj, type) and getattr(obj, "_is_protocol", False):
        return {"kind": "protocol"}
    if isinstance(obj, type):
        return {"kind": "class", "methods": _methods(obj)}
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return {"kind": "function", "params": _params(obj)}
    if typing.get_origin(obj) is not None or isinstance(obj, getattr(types, "UnionType", ())):
        return {"kind": "alias"}
    return {"kind": "value", "type": type(obj).__name__}


def dump() -> dict[str, Any]:
    import importlib

    out: dict[str, Any] = {}
    for modname in MODULES:
        module = importlib.import_module(modname)
        names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
        out[modname] = {name: describe(getattr(module, name)) for name in sorted(names)}
    import flame_hub

    return {"version": getattr(flame_hub, "__version__", None), "modules": out}


if __name__ == "__main__":
    json.dump(dump(), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
