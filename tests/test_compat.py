"""Every public method of flame-hub-client 1.1.0 exists with a compatible signature.

The inventory is upstream-client.md §1.2–§1.4 (methods, required positional arguments in order,
optional arguments). "Compatible" means: a call that was valid against 1.1.0 binds to ours with
the same meaning — the upstream required arguments come first and in the same order, every
upstream argument name is accepted, and ours requires nothing more.

Deliberate differences (also listed in the README's "Compatibility" section):
- optional arguments of ``update_<x>`` are keyword-only (positional use of ``update_node(node,
  "ext", True)`` was possible but fragile); every script using keywords runs unchanged;
- arguments the current Hub ignores (e.g. ``update_registry_project(registry_project_type=)``)
  are accepted by the signature but raise ``ValueError`` when given, instead of being dropped
  silently by the Hub;
- ``stream_*`` default to 64 KiB chunks (1.1.0: 1 KiB).
"""

from __future__ import annotations

import inspect

import pytest

import flame_hub

GET_KW = ("fields", "meta", "auth")
FIND_KW = ("filter", "page", "sort", "fields", "meta", "auth")

# method -> (required positional arguments in order, optional arguments, positional order matters)
Entry = tuple[tuple[str, ...], tuple[str, ...], bool]


def _crud(singular: str, plural: str, *, create: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
          update: tuple[str, ...] | None = None, get: bool = True, delete: bool = True) -> dict[str, Entry]:
    out: dict[str, Entry] = {
        f"get_{plural}": ((), GET_KW, False),
        f"find_{plural}": ((), FIND_KW, False),
    }
    if get:
        out[f"get_{singular}"] = ((f"{singular}_id",), GET_KW, False)
    if create is not None:
        out[f"create_{singular}"] = (create[0], create[1], True)
    if update is not None:
        out[f"update_{singular}"] = ((f"{singular}_id",), update, False)
    if delete:
        out[f"delete_{singular}"] = ((f"{singular}_id",), (), False)
    return out


CORE: dict[str, Entry] = {
    **_crud("node", "nodes",
            create=(("name",), ("realm_id", "registry_id", "external_name", "node_type", "hidden")),
            update=("external_name", "hidden", "node_type", "realm_id", "registry_id", "public_key")),
    "get_node_registry_credentials": (("node_id",), (), False),
    "get_node_client_credentials": (("node_id",), (), False),
    "update_node_client_credentials": (("node_id",), ("secret", "name", "display_name"), False),
    **_crud("master_image_group", "master_image_groups", delete=False),
    **_crud("master_image", "master_images", delete=False),
    "sync_master_images": ((), (), False),
    "build_master_image": (("master_image_id",), (), False),
    **_crud("project", "projects",
            create=(("name",), ("display_name", "master_image_id", "description")),
            update=("description", "master_image_id", "name", "display_name")),
    **_crud("project_node", "project_nodes", create=(("project_id", "node_id"), ()),
            update=("comment", "approval_status")),
    **_crud("analysis", "analyses",
            create=(("project_id",), ("name", "display_name", "description", "master_image_id",
                                      "registry_id", "image_command_arguments")),
            update=("name", "display_name", "description", "master_image_id", "image_command_arguments")),
    "send_analysis_command": (("analysis_id", "command"), (), False),
    "get_analysis_client_credentials": (("analysis_id",), (), False),
    "update_analysis_client_credentials": (("analysis_id",), ("secret", "name", "display_name"), False),
    **_crud("analysis_node", "analysis_nodes", create=(("analysis_id", "node_id"), ()),
            update=("comment", "approval_status", "execution_status", "execution_progress")),
    "find_analysis_node_logs": ((), FIND_KW, False),
    "create_analysis_node_log": (("analysis_id", "node_id", "level", "message"), ("status", "code"), True),
    "delete_analysis_node_logs": (("analysis_id", "node_id"), (), False),
    "find_analysis_logs": ((), FIND_KW, False),
    "delete_analysis_logs": (("analysis_id",), (), False),
    **_crud("analysis_bucket", "analysis_buckets",
            create=(("bucket_type", "bucket_id", "analysis_id"), ())),
    **_crud("analysis_bucket_file", "analysis_bucket_files",
            create=(("path", "bucket_file_id", "bucket_id", "analysis_bucket_id"), ("is_entrypoint",)),
            update=("is_entrypoint",)),
    **_crud("registry", "registries", create=(("name", "host"), ("account_name", "account_secret")),
            update=("name", "host", "account_name", "account_secret")),
    "send_registry_command": (("registry_id", "command"), (), False),
    **_crud("registry_project", "registry_projects",
            create=(("name", "registry_project_type", "registry_id", "external_name"),
                    ("account_name", "account_secret")),
            update=("name", "registry_project_type", "registry_id", "external_name", "account_name",
                    "account_secret")),
}

STORAGE: dict[str, Entry] = {
    **_crud("bucket", "buckets", create=(("name",), ("region",))),
    "stream_bucket_tarball": (("bucket_id",), ("chunk_size",), True),
    "upload_to_bucket": (("bucket_id",), (), False),
    **_crud("bucket_file", "bucket_files"),
    "stream_bucket_file": (("bucket_file_id",), ("chunk_size",), True),
}

_CLIENT_FIELDS = ("secret", "display_name", "description", "redirect_uri", "active", "is_confidential",
                  "secret_hashed", "grant_types", "auth_method", "token_binding_method",
                  "post_logout_redirect_uri", "backchannel_logout_uri")
AUTH: dict[str, Entry] = {
    **_crud("realm", "realms", create=(("name",), ("display_name", "description")),
            update=("name", "display_name", "description")),
    **_crud("permission", "permissions", create=(("name",), ("display_name", "description", "realm_id")),
            update=("name", "display_name", "description", "realm_id")),
    **_crud("role", "roles", create=(("name",), ("display_name", "description")),
            update=("name", "display_name", "description")),
    **_crud("role_permission", "role_permissions", create=(("role_id", "permission_id"), ())),
    **_crud("user", "users",
            create=(("name", "email"), ("display_name", "active", "name_locked", "first_name", "last_name")),
            update=("name", "display_name", "email", "active", "name_locked", "first_name", "last_name")),
    **_crud("user_permission", "user_permissions", create=(("user_id", "permission_id"), ())),
    **_crud("user_role", "user_roles", create=(("user_id", "role_id"), ())),
    **_crud("client", "clients", create=(("name", "realm_id"), _CLIENT_FIELDS), update=("name", *_CLIENT_FIELDS)),
}

CASES = [
    pytest.param(cls_name, method, entry, id=f"{cls_name}.{method}")
    for cls_name, table in (("CoreClient", CORE), ("StorageClient", STORAGE), ("AuthClient", AUTH))
    for method, entry in table.items()
]


def _params(func) -> list[inspect.Parameter]:
    return list(inspect.signature(func).parameters.values())[1:]  # without self


def _check(func, entry: Entry) -> None:
    required, optional, ordered = entry
    params = _params(func)
    by_name = {p.name: p for p in params}
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    # upstream required arguments first, same order, callable positionally
    assert [p.name for p in positional[:len(required)]] == list(required)
    # ours requires nothing more than upstream did
    extra_required = [p.name for p in params
                      if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                      and p.name not in required]
    assert not extra_required, f"requires more than 1.1.0: {extra_required}"
    for name in optional:
        assert name in by_name or var_kw, f"argument {name!r} of 1.1.0 is not accepted"
        if name in by_name:
            assert by_name[name].default is not by_name[name].empty, f"{name} must stay optional"
    if ordered:  # create_<x>(name, realm_id, ...) worked positionally in 1.1.0
        names = [p.name for p in positional]
        assert names[:len(required) + len(optional)] == [*required, *optional]
    bound = inspect.signature(func).bind(None, *(f"<{n}>" for n in required))
    assert bound is not None


@pytest.mark.parametrize(("cls_name", "method", "entry"), CASES)
def test_sync_method_is_compatible(cls_name, method, entry):
    cls = getattr(flame_hub, cls_name)
    assert callable(getattr(cls, method, None)), f"{cls_name}.{method} is missing"
    _check(getattr(cls, method), entry)


@pytest.mark.parametrize(("cls_name", "method", "entry"), CASES)
def test_async_twin_has_the_same_signature(cls_name, method, entry):
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
