"""Compatibility with flame-hub-client 1.1.0 beyond the surface dump (``tests/test_surface.py``):
the async twins, constructors, the package's own names and the committed type stubs.

Every 1.1.0 method, its arguments, their order and defaults are checked against the dumped
surface in ``tests/test_surface.py``; its deliberate differences are listed there and in the
README's "Compatibility" section.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

import flame_hub

SURFACE = json.loads((Path(__file__).parent / "data" / "surface-1.1.0.json").read_text())
CASES = [
    pytest.param(cls_name, method, id=f"{cls_name}.{method}")
    for cls_name in ("CoreClient", "StorageClient", "AuthClient")
    for method in SURFACE["modules"]["flame_hub"][cls_name]["methods"]
    if method not in ("__init__", "close")  # the async twins close with aclose()
]


@pytest.mark.parametrize(("cls_name", "method"), CASES)
def test_async_twin_has_the_same_signature(cls_name, method):
    sync_cls, async_cls = getattr(flame_hub, cls_name), getattr(flame_hub, "Async" + cls_name)
    sync_m, async_m = getattr(sync_cls, method), getattr(async_cls, method)
    assert inspect.signature(sync_m) == inspect.signature(async_m)
    if method.startswith("stream_"):
        assert not inspect.iscoroutinefunction(async_m)  # returns an async iterator
    else:
        assert inspect.iscoroutinefunction(async_m)


@pytest.mark.parametrize("cls_name", ["CoreClient", "StorageClient", "AuthClient"])
def test_constructor_is_compatible(cls_name):
    for cls in (getattr(flame_hub, cls_name), getattr(flame_hub, "Async" + cls_name)):
        params = inspect.signature(cls).parameters
        assert list(params)[:2] == ["base_url", "auth"]
        assert params["base_url"].default is None and params["auth"].default is None
        assert params["client"].kind is inspect.Parameter.KEYWORD_ONLY
        assert params["client"].default is None
        assert {"timeout", "max_retries"} <= set(params)


def test_get_and_find_accept_the_documented_keywords():
    core = flame_hub.CoreClient
    for name in ("get_node", "get_nodes", "find_nodes"):
        params = inspect.signature(getattr(core, name)).parameters
        assert {"fields", "meta", "auth", "include"} <= set(params)
    assert {"filter", "page", "sort"} <= set(inspect.signature(core.find_nodes).parameters)


def test_public_names_of_the_package():
    for name in ("AuthClient", "CoreClient", "StorageClient", "HubAPIError", "auth", "types",
                 "models", "__version__", "AsyncCoreClient", "AsyncStorageClient", "AsyncAuthClient"):
        assert hasattr(flame_hub, name), name
    assert flame_hub.__version__ == "2.0.0.dev0"
    assert issubclass(flame_hub.NotFound, flame_hub.HubAPIError)
    assert issubclass(flame_hub.HubAPIError, flame_hub.errors.HubError)
    for name in ("PasswordAuth", "ClientAuth", "StaticAuth", "RobotAuth"):
        assert hasattr(flame_hub.auth, name), name


def test_public_names_of_types():
    for name in ("PageParams", "SortParams", "FilterOperator", "FilterParams", "FindAllKwargs",
                 "GetKwargs", "IncludeParams", "FieldParams", "NodeType", "RegistryCommand",
                 "RegistryProjectType", "ProjectNodeApprovalStatus", "AnalysisCommand",
                 "AnalysisNodeApprovalStatus", "AnalysisBucketType", "LogLevel", "ProcessStatus",
                 "UploadFile", "UuidIdentifiable"):
        assert hasattr(flame_hub.types, name), name


def test_helpers_are_generated_not_hand_written():
    """Every CRUD helper comes from the registry: a resource's helpers follow its catalog entry."""
    from flame_hub.clients import helpers_of
    from flame_hub.resources import resources_of

    names = {h.name for h in helpers_of("core")}
    for res in resources_of("core", "0.14.0"):
        spec = res.era()
        if spec.supports("get"):
            assert f"get_{res.singular}" in names
        if spec.supports("delete"):
            assert f"delete_{res.singular}" in names
    assert "create_master_image" not in names  # the Hub offers no create there


def test_type_stubs_are_up_to_date():
    """The generated API is visible to type checkers through committed stubs; they must match
    the registry (regenerate with ``python -m flame_hub.clients._stubs``)."""
    import ast

    from flame_hub.clients._stubs import rendered

    for path, text in rendered().items():
        assert path.exists() and path.read_text() == text, f"{path} is stale: run python -m flame_hub.clients._stubs"
        tree = ast.parse(text)
        declared = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
        assert declared  # classes are spelled out
    stub = ast.parse(rendered()[next(iter(rendered()))])
    core = next(n for n in stub.body if isinstance(n, ast.ClassDef) and n.name == "CoreClient")
    methods = {n.name for n in core.body if isinstance(n, ast.FunctionDef)}
    from flame_hub.clients import helpers_of

    assert methods == {h.name for h in helpers_of("core")}


def test_models_stub_declares_every_public_model():
    import ast

    from flame_hub import models
    from flame_hub.clients._stubs import MODELS_STUB

    tree = ast.parse(MODELS_STUB.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    assert set(models.__all__) <= names
