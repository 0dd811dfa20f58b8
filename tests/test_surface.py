"""This package's public surface against flame-hub-client 1.1.0's, entry by entry.

``tests/data/surface-1.1.0.json`` is 1.1.0's surface as ``tools/dump_surface.py`` dumps it from
the PyPI release (regenerate: ``/tmp/venv110/bin/python tools/dump_surface.py >
tests/data/surface-1.1.0.json`` in a venv with ``flame-hub-client==1.1.0``). The same tool dumps
ours, and every 1.1.0 entry must be there with the same kind and shape. Ours may add — names,
enum/Literal members, TypedDict keys, model fields, methods, parameters — but never drop:

- a TypedDict or model requires nothing 1.1.0 did not require;
- a method or function takes every 1.1.0 parameter by the same name; 1.1.0's positional
  parameters stay positional, in the same order; an optional one stays optional; a default
  1.1.0 spells out (``active=True``, ``node_type="default"``, ``None``) is the same value.

The few deliberate differences are :data:`EXCEPTIONS`, each with its reason; the README's
"Compatibility" section lists the same ones.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = json.loads((ROOT / "tests" / "data" / "surface-1.1.0.json").read_text())


def _load_tool():
    spec = importlib.util.spec_from_file_location("dump_surface", ROOT / "tools" / "dump_surface.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dump_surface = _load_tool()
OURS = dump_surface.dump()

#: (module, name, detail) -> why ours differs there. ``detail`` names the part of the entry:
#: ``"<method>.<param>:default"`` for a parameter's default.
EXCEPTIONS: dict[tuple[str, str, str], str] = {
    **{
        ("flame_hub", cls, "__init__.base_url:default"):
            "None: the FLAME_HUB_* environment, else the same public-Hub URL (and client= can "
            "be given without a base_url being implied)"
        for cls in ("AuthClient", "CoreClient", "StorageClient")
    },
    ("flame_hub", "StorageClient", "stream_bucket_tarball.chunk_size:default"):
        "64 KiB chunks instead of 1 KiB: the same bytes in fewer, larger pieces",
    ("flame_hub", "StorageClient", "stream_bucket_file.chunk_size:default"):
        "64 KiB chunks instead of 1 KiB: the same bytes in fewer, larger pieces",
    **{
        ("flame_hub.auth", cls, "__init__.base_url:default"):
            "None stands for the same public-Hub token URL, or the base URL of a client= given"
        for cls in ("PasswordAuth", "ClientAuth")
    },
    ("flame_hub.auth", "StaticAuth", "__init__.positional order ['token'] instead of ['access_token']"):
        "the token is the first argument either way; StaticAuth(access_token=...) works too",
    **{
        ("flame_hub", "HubAPIError", detail): "the client raises HubAPIError (and its subclasses "
        "NotFound, Conflict, ...), scripts catch it: it is built from the response, and carries "
        "1.1.0's error_response, request and headers"
        for detail in ("__init__.positional order ['message'] instead of ['message', 'request', "
                       "'headers', 'error', 'error_model_traceback']", "__init__.request missing",
                       "__init__.headers missing", "__init__.error missing",
                       "__init__.error_model_traceback missing")
    },
}


def _problems(module: str, name: str, ref: dict[str, Any], ours: dict[str, Any] | None) -> list[str]:
    """Every way ``ours`` fails to stand in for 1.1.0's entry ``ref`` (empty when it does)."""
    if ours is None:
        return ["missing"]
    if ours["kind"] != ref["kind"]:
        return [f"kind {ours['kind']} instead of {ref['kind']}"]
    out: list[str] = []
    kind = ref["kind"]
    if kind == "enum":
        if ours["str"] != ref["str"]:
            out.append("not a str Enum" if ref["str"] else "a str Enum")
        for member, value in ref["members"].items():
            if ours["members"].get(member) != value:
                out.append(f"member {member}={value!r} missing")
    elif kind == "Literal":
        out += [f"member {m!r} missing" for m in ref["members"] if m not in ours["members"]]
    elif kind == "TypedDict":
        out += [f"key {k!r} missing" for k in ref["keys"] if k not in ours["keys"]]
        out += [f"key {k!r} required" for k in ours["required"] if k not in ref["required"]]
    elif kind == "model":
        for field, required in ref["fields"].items():
            if field not in ours["fields"]:
                out.append(f"field {field!r} missing")
            elif ours["fields"][field] and not required:
                out.append(f"{field}:optional")
            elif required and not ours["fields"][field]:
                pass  # ours is more lenient (tolerant read models)
        out += [f"field {f!r} required" for f, req in ours["fields"].items()
                if req and f not in ref["fields"]]
        # a required field 1.1.0 requires too is fine; one it does not know is listed above
    elif kind == "class":
        for method, params in ref["methods"].items():
            if method not in ours["methods"]:
                out.append(f"method {method} missing")
            else:
                out += [f"{method}.{p}" for p in _param_problems(params, ours["methods"][method])]
    elif kind == "function":
        out += _param_problems(ref["params"], ours["params"])
    elif kind == "value":
        if ours["type"] != ref["type"]:
            out.append(f"a {ours['type']} instead of a {ref['type']}")
    return [p for p in out if (module, name, p) not in EXCEPTIONS]


def _param_problems(ref: list[list[Any]], ours: list[list[Any]]) -> list[str]:
    by_name = {p[0]: p for p in ours}
    ours_positional = [p[0] for p in ours if p[1] == "positional"]
    ref_positional = [p[0] for p in ref if p[1] == "positional"]
    out = []
    if ours_positional[:len(ref_positional)] != ref_positional:
        out.append(f"positional order {ours_positional} instead of {ref_positional}")
    for name, kind, default in ref:
        if kind in ("var_keyword", "var_positional"):  # *upload_file: the name is not part of a call
            if not any(p[1] == kind for p in ours):
                out.append(f"*{name} missing" if kind == "var_positional" else f"**{name} missing")
            continue
        mine = by_name.get(name)
        if mine is None:
            out.append(f"{name} missing")
            continue
        if mine[2] == dump_surface.REQUIRED and default != dump_surface.REQUIRED:
            out.append(f"{name}:required")
        elif default not in (dump_surface.REQUIRED, "<optional>") and mine[2] != default:
            out.append(f"{name}:default")
    return out


CASES = [
    pytest.param(module, name, entry, id=f"{module}.{name}")
    for module, entries in REFERENCE["modules"].items()
    for name, entry in entries.items()
]


def test_the_reference_is_1_1_0():
    assert REFERENCE["version"] == "1.1.0"
    assert sum(len(v) for v in REFERENCE["modules"].values()) == 115


@pytest.mark.parametrize(("module", "name", "entry"), CASES)
def test_entry_of_1_1_0_is_there(module, name, entry):
    problems = _problems(module, name, entry, OURS["modules"][module].get(name))
    assert not problems, f"{module}.{name}: {'; '.join(problems)}"


def test_every_exception_is_still_needed():
    """An exception that no longer matches a difference must go (and its README line)."""
    raw: set[tuple[str, str, str]] = set()
    for module, entries in REFERENCE["modules"].items():
        for name, entry in entries.items():
            saved = dict(EXCEPTIONS)
            EXCEPTIONS.clear()
            try:
                raw |= {(module, name, p) for p in
                        _problems(module, name, entry, OURS["modules"][module].get(name))}
            finally:
                EXCEPTIONS.update(saved)
    assert set(EXCEPTIONS) <= raw, sorted(set(EXCEPTIONS) - raw)


def test_the_checker_fails_on_a_dropped_entry():
    """The comparison is able to fail: drop or change things in a copy of 1.1.0's own dump."""
    node = REFERENCE["modules"]["flame_hub.models"]["Node"]
    assert _problems("m", "Node", node, {"kind": "model", "fields": {}})
    enum_ref = REFERENCE["modules"]["flame_hub.types"]["AnalysisBucketType"]
    assert _problems("m", "X", enum_ref, {"kind": "Literal", "members": ["CODE"]})
    client = REFERENCE["modules"]["flame_hub"]["AuthClient"]
    changed = json.loads(json.dumps(client))
    params = changed["methods"]["create_user"]
    params[[p[0] for p in params].index("active")][2] = None
    assert _problems("m", "X", client, changed) == ["create_user.active:default"]
    storage = REFERENCE["modules"]["flame_hub"]["StorageClient"]
    changed = json.loads(json.dumps(storage))
    changed["methods"]["upload_to_bucket"] = [p for p in changed["methods"]["upload_to_bucket"]
                                              if p[1] != "var_positional"]
    assert _problems("m", "X", storage, changed) == ["upload_to_bucket.*upload_file missing"]


def test_readme_lists_every_exception():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Compatibility", 1)[1].split("\n## ", 1)[0]
    for (module, name, detail) in EXCEPTIONS:
        # the method or argument concerned, or the class for a constructor
        token = name if detail.startswith("__init__") else detail.split(".")[0]
        assert f"`{token}" in section or f"{token}`" in section, \
            f"README Compatibility does not mention {module}.{name} {detail}"
