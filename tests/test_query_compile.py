"""Compiled requests of QuerySet chains: syrupy snapshots, plus a check that every compiled key is
one the recorded ``meta.schema`` of that resource allows.

Update the snapshots with ``python -m pytest tests/test_query_compile.py --snapshot-update`` and
review the diff of ``snapshots/test_query_compile/``.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from _shared import HUB_SPEC

from flame_hub.dialects import CURRENT, LEGACY, TRANSITIONAL, Dialect
from flame_hub.query import Q, QuerySet, queryset_from_find_kwargs
from flame_hub.resources import get_resource

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = HUB_SPEC / "list-schemas.json"


class RepoSnapshots(JSONSnapshotExtension):
    """JSON snapshots under ``<repo>/snapshots/<test module>/``."""

    @classmethod
    def dirname(cls, *, test_location: Any) -> str:
        return str(ROOT / "snapshots" / test_location.basename)


@pytest.fixture
def snapshot_json(snapshot: Any) -> Any:
    return snapshot.use_extension(RepoSnapshots)


class NoIO:
    """A backend that only knows its dialect: compiling must never fetch."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect

    def fetch_page(self, resource: Any, params: Any) -> Any:  # pragma: no cover - must not run
        raise AssertionError("compiling a QuerySet must not send a request")


def qs(resource: str, dialect: Dialect = CURRENT) -> QuerySet:
    return QuerySet(get_resource(resource), NoIO(dialect))


U1 = uuid.UUID("4b3ca244-c488-4e86-ae3d-a677cd8255c4")
U2 = uuid.UUID("16c9e5fe-546f-4754-974a-59fd1a9719b8")
A_REALM = SimpleNamespace(id=U1, name="master")  # any model with an id
FIND_EXAMPLE = dict(  # the upstream-client.md §4 example, minus the keys nodes cannot filter on
    filter={"name": ("~", "abc"), "realm_id": "r1", "registry.name": "x", "hidden": False, "robot_id": None},
    page={"limit": 10, "offset": 20}, sort={"by": "created_at", "order": "descending"},
    fields=["public_key"],
)

# (id, dialect, chain). Every lookup, both dialects where they differ, relation paths,
# fields/include/sort/page/slicing, the find_* translation and each error.
CHAINS: list[tuple[str, Dialect, Callable[[], Any]]] = [
    # -- bracket filters, Hub 0.14 --------------------------------------------------------------
    ("nodes-all", CURRENT, lambda: qs("nodes")),
    ("nodes-exact", CURRENT, lambda: qs("nodes").filter(name="lab-node-1")),
    ("nodes-iexact-same-as-exact", CURRENT, lambda: qs("nodes").filter(name__iexact="Lab-Node-1")),
    ("nodes-bool", CURRENT, lambda: qs("nodes").filter(hidden=False, online=True)),
    ("nodes-isnull", CURRENT, lambda: qs("nodes").filter(robot_id__isnull=True)),
    ("nodes-isnull-false", CURRENT, lambda: qs("nodes").filter(robot_id__isnull=False)),
    ("nodes-none-is-null", CURRENT, lambda: qs("nodes").filter(client_id=None)),
    ("nodes-ne", CURRENT, lambda: qs("nodes").filter(name__ne="lab-node-1")),
    ("nodes-exclude-one", CURRENT, lambda: qs("nodes").exclude(name="lab-node-1")),
    ("nodes-in", CURRENT, lambda: qs("nodes").filter(name__in=["a", "b", "c"])),
    ("nodes-sequence-means-in", CURRENT, lambda: qs("nodes").filter(id=[U1, U2])),
    ("nodes-not-in", CURRENT, lambda: qs("nodes").exclude(name__in=["a", "b"])),
    ("nodes-startswith", CURRENT, lambda: qs("nodes").filter(name__startswith="lab")),
    ("nodes-endswith", CURRENT, lambda: qs("nodes").filter(name__endswith="lab")),
    ("nodes-contains", CURRENT, lambda: qs("nodes").filter(name__contains="lab")),
    ("nodes-icontains", CURRENT, lambda: qs("nodes").filter(name__icontains="LAB")),
    ("nodes-istartswith-iendswith", CURRENT,
     lambda: qs("nodes").filter(name__istartswith="a", robot_id__iendswith="z")),
    ("nodes-not-contains", CURRENT, lambda: qs("nodes").exclude(name__contains="test")),
    ("projects-lt-lte-gt-gte", CURRENT,
     lambda: qs("projects").filter(name__lt="m", display_name__gte="b", id__gt=str(U1), realm_id__lte=str(U2))),
    ("nodes-uuid-and-model-values", CURRENT, lambda: qs("nodes").filter(realm_id=A_REALM, id=U2)),
    ("users-relation-as-foreign-key", CURRENT, lambda: qs("users").filter(realm=A_REALM)),
    ("nodes-chained-filters-and", CURRENT,
     lambda: qs("nodes").filter(name__startswith="lab").filter(hidden=False).exclude(online=True)),
    # -- expression filters (Hub >= 0.12.3) -----------------------------------------------------
    ("nodes-range", CURRENT, lambda: qs("nodes").filter(name__range=("a", "m"))),
    ("nodes-or", CURRENT, lambda: qs("nodes").filter(Q(name="a") | Q(name__startswith="lab"))),
    ("nodes-or-not", CURRENT, lambda: qs("nodes").filter(Q(name="a") | ~Q(online=True))),
    ("nodes-not-group", CURRENT, lambda: qs("nodes").exclude(name="a", hidden=True)),
    ("nodes-two-conditions-one-field", CURRENT,
     lambda: qs("nodes").filter(name__startswith="lab").exclude(name="lab-x")),
    ("nodes-comma-value", CURRENT, lambda: qs("nodes").filter(name="a,b")),
    ("nodes-leading-marker-value", CURRENT, lambda: qs("nodes").filter(name="!important")),
    ("nodes-trailing-tilde-value", CURRENT, lambda: qs("nodes").filter(name="abc~")),
    ("nodes-quote-in-expression", CURRENT, lambda: qs("nodes").filter(Q(name="it's") | Q(name="x,y"))),
    ("nodes-negated-comparison", CURRENT, lambda: qs("nodes").exclude(name__lt="m")),
    ("nodes-contains-with-spaces", CURRENT, lambda: qs("nodes").filter(name__contains=" lab ")),
    ("nodes-not-in-with-comma", CURRENT, lambda: qs("nodes").exclude(name__in=["a,b", "c"])),
    # -- relation paths ------------------------------------------------------------------------
    ("users-realm-name", CURRENT, lambda: qs("users").filter(realm__name="master")),
    ("analysis-nodes-analysis-name", CURRENT,
     lambda: qs("analysis-nodes").filter(analysis__name__startswith="lab").include("analysis.project")),
    ("project-nodes-node-name-or", CURRENT,
     lambda: qs("project-nodes").filter(Q(node__name="a") | Q(project__name="b"))),
    ("analysis-nodes-sort-by-relation", CURRENT, lambda: qs("analysis-nodes").sort("-node__name")),
    # -- sort ----------------------------------------------------------------------------------
    ("nodes-sort-desc-no-id-tiebreak", CURRENT, lambda: qs("nodes").sort("-created_at")),
    ("nodes-order-by-alias", CURRENT, lambda: qs("nodes").order_by("name", "-updated_at")),
    ("projects-sort-id-tiebreak", CURRENT, lambda: qs("projects").sort("-created_at", "name")),
    ("projects-sort-by-id-itself", CURRENT, lambda: qs("projects").sort("-id")),
    ("projects-default-sort-id", CURRENT, lambda: qs("projects")),
    ("analyses-default-sort-created-at", CURRENT, lambda: qs("analyses")),
    ("master-image-groups-no-sort", CURRENT, lambda: qs("master-image-groups")),
    ("users-sort-index-prefix", CURRENT, lambda: qs("users").sort("name")),
    ("users-default-sort", CURRENT, lambda: qs("users")),
    ("realms-sort-camel-input", CURRENT, lambda: qs("realms").sort("-createdAt")),
    # -- fields / include ------------------------------------------------------------------------
    ("nodes-fields-replace-keeps-id", CURRENT, lambda: qs("nodes").fields("name", "online")),
    ("nodes-fields-replace-then-add", CURRENT, lambda: qs("nodes").fields("name").fields("+public_key")),
    ("registries-fields-hidden", CURRENT, lambda: qs("registries").fields("+account_secret")),
    ("nodes-fields-add-remove", CURRENT, lambda: qs("nodes").fields("+public_key", "-external_name")),
    ("users-fields-email", CURRENT, lambda: qs("users").fields("+email").include("realm")),
    ("nodes-include", CURRENT, lambda: qs("nodes").include("registry", "registry_project")),
    ("clients-include-renamed-relation", CURRENT, lambda: qs("clients").include("access_policy")),
    # -- page / slicing / limit / raw ----------------------------------------------------------------
    ("nodes-page", CURRENT, lambda: qs("nodes").page(limit=10, offset=20)),
    ("nodes-slice-60-70", CURRENT, lambda: qs("nodes")[60:70]),
    ("nodes-slice-100-250-first-request", CURRENT, lambda: qs("nodes")[100:250]),
    ("nodes-slice-of-slice", CURRENT, lambda: qs("nodes")[10:100][5:15]),
    ("nodes-limit", CURRENT, lambda: qs("nodes").filter(hidden=False).limit(5)),
    ("nodes-page-then-limit", CURRENT, lambda: qs("nodes").page(limit=20, offset=3).limit(7)),
    ("nodes-raw-overrides", CURRENT, lambda: qs("nodes").sort("name").raw({"sort": "-name", "codec": "url-expression"})),
    # -- find_* translation ------------------------------------------------------------------------
    ("find-upstream-example", CURRENT, lambda: queryset_from_find_kwargs(qs("nodes"), **FIND_EXAMPLE)),
    ("find-defaults", CURRENT, lambda: queryset_from_find_kwargs(qs("nodes"))),
    ("find-like-percent-contains", CURRENT,
     lambda: queryset_from_find_kwargs(qs("nodes"), filter={"name": ("like", "%lab")})),
    ("find-raw-string-operators", CURRENT,
     lambda: queryset_from_find_kwargs(qs("projects"), filter={"name": "!x", "displayName": ">=b",
                                                               "realm_id": "r1,r2", "user_id": "null"})),
    ("find-operator-enum-and-in", CURRENT,
     lambda: queryset_from_find_kwargs(qs("nodes"), filter={"id": ("!", [U1, U2]), "online": ("=", True)},
                                       sort={"by": "name"}, include="registry")),
    ("find-log-list-required", CURRENT,
     lambda: queryset_from_find_kwargs(qs("analysis-node-logs"),
                                       filter={"analysis_id": str(U1), "node_id": str(U2), "level": "info"})),
    # -- legacy Hub 0.8 (rapiq v1: snake_case, `~x` = starts with, no expression form) -----------------
    ("legacy-nodes-all-no-sort", LEGACY, lambda: qs("nodes", LEGACY)),
    ("legacy-startswith", LEGACY, lambda: qs("nodes", LEGACY).filter(name__startswith="lab")),
    ("legacy-contains", LEGACY, lambda: qs("nodes", LEGACY).filter(name__contains="lab")),
    ("legacy-not-startswith", LEGACY, lambda: qs("nodes", LEGACY).exclude(name__startswith="lab")),
    ("legacy-snake-keys", LEGACY, lambda: qs("nodes", LEGACY).filter(realm_id=U1, hidden=False)),
    ("legacy-trailing-tilde-is-literal", LEGACY, lambda: qs("nodes", LEGACY).filter(name="abc~")),
    ("legacy-relation-filter", LEGACY, lambda: qs("analysis-nodes", LEGACY).filter(node__realm_id=U1)),
    ("legacy-projects-sort", LEGACY, lambda: qs("projects", LEGACY).sort("-created_at")),
    ("legacy-fields", LEGACY, lambda: qs("nodes", LEGACY).fields("name")),
    ("legacy-find-example", LEGACY,
     lambda: queryset_from_find_kwargs(qs("projects", LEGACY), filter={"name": ("~", "abc"), "realm_id": "r1"},
                                       page={"limit": 10}, sort={"by": "created_at", "order": "descending"})),
    # -- Hub 0.12.3-0.12.7: rapiq v2 grammar, snake_case keys --------------------------------------
    ("transitional-endswith", TRANSITIONAL, lambda: qs("nodes", TRANSITIONAL).filter(name__endswith="lab")),
    ("transitional-or", TRANSITIONAL, lambda: qs("nodes", TRANSITIONAL).filter(Q(realm_id=U1) | Q(name="x"))),
    # -- errors (raised before any request) ---------------------------------------------------------
    ("err-unknown-filter", CURRENT, lambda: qs("nodes").filter(foo="bar")),
    ("err-filter-not-allowed", CURRENT, lambda: qs("nodes").filter(created_at__gt="2026-01-01")),
    ("err-unknown-lookup", CURRENT, lambda: qs("nodes").filter(name__regex="x")),
    ("err-sort-not-allowed", CURRENT, lambda: qs("nodes").sort("id")),
    ("err-sort-twice", CURRENT, lambda: qs("nodes").sort("name", "-name")),
    ("err-no-sort-at-all", CURRENT, lambda: qs("master-image-groups").sort("name")),
    ("err-authup-sort-not-index-prefix", CURRENT, lambda: qs("users").sort("-created_at", "name")),
    ("err-include-unknown", CURRENT, lambda: qs("nodes").include("realm")),
    ("err-include-nested-unknown", CURRENT, lambda: qs("analysis-nodes").include("analysis.registry")),
    ("err-field-unknown", CURRENT, lambda: qs("nodes").fields("+secret")),
    ("err-fields-not-supported", CURRENT, lambda: qs("analysis-logs").fields("level")),
    ("err-relation-field-not-allowed", CURRENT, lambda: qs("users").filter(realm__description="x")),
    ("err-relation-too-deep", CURRENT, lambda: qs("analysis-nodes").filter(analysis__project__name="x")),
    ("err-coerced-null", CURRENT, lambda: qs("nodes").filter(name="null")),
    ("err-coerced-number", CURRENT, lambda: qs("nodes").filter(name="0x1F")),
    ("err-whitespace", CURRENT, lambda: qs("nodes").filter(name=" lab")),
    ("err-empty-in", CURRENT, lambda: qs("nodes").filter(name__in=[])),
    ("err-none-in-list", CURRENT, lambda: qs("nodes").filter(name__in=["a", None])),
    ("err-isnull-not-bool", CURRENT, lambda: qs("nodes").filter(robot_id__isnull="yes")),
    ("err-compare-none", CURRENT, lambda: qs("nodes").filter(name__gt=None)),
    ("err-empty-pattern", CURRENT, lambda: qs("nodes").filter(name__contains="")),
    ("err-bad-value-type", CURRENT, lambda: qs("nodes").filter(name=object())),
    ("err-missing-required-filter", CURRENT, lambda: qs("analysis-node-logs").filter(level="info").params()),
    ("err-log-list-or", CURRENT,
     lambda: qs("analysis-logs").filter(Q(analysis_id=str(U1)) & (Q(level="info") | Q(level="warn"))).params()),
    ("err-log-list-not-equality", CURRENT,
     lambda: qs("analysis-logs").filter(analysis_id=str(U1), level__startswith="err")),
    ("err-legacy-endswith", LEGACY, lambda: qs("nodes", LEGACY).filter(name__endswith="lab")),
    ("err-legacy-or", LEGACY, lambda: qs("nodes", LEGACY).filter(Q(name="a") | Q(name="b"))),
    ("err-legacy-wildcard-in-value", LEGACY, lambda: qs("nodes", LEGACY).filter(name__startswith="node_a")),
    ("err-legacy-comma", LEGACY, lambda: qs("nodes", LEGACY).filter(name="a,b")),
    ("err-legacy-sort-ignored", LEGACY, lambda: qs("nodes", LEGACY).sort("name")),
    ("err-legacy-fields-ignored", LEGACY, lambda: qs("analyses", LEGACY).fields("name")),
    ("err-legacy-relation-filter-dead", LEGACY, lambda: qs("project-nodes", LEGACY).filter(node__realm_id=U1)),
    ("err-legacy-camel-relation", LEGACY, lambda: qs("nodes", LEGACY).filter(registry__name="x")),
    ("err-filter-after-slice", CURRENT, lambda: qs("nodes")[10:20].filter(name="x")),
    ("err-negative-slice", CURRENT, lambda: qs("nodes")[-5:]),
    ("err-page-limit-zero", CURRENT, lambda: qs("nodes").page(limit=0)),
    ("err-raw-page", CURRENT, lambda: qs("nodes").raw([("page[limit]", "100")])),
    ("err-find-bad-operator", CURRENT, lambda: queryset_from_find_kwargs(qs("nodes"), filter={"name": ("=~", "x")})),
    ("err-find-like-inner-wildcard", CURRENT,
     lambda: queryset_from_find_kwargs(qs("nodes"), filter={"name": ("~", "a%b")})),
    ("err-find-bad-sort-order", CURRENT,
     lambda: queryset_from_find_kwargs(qs("nodes"), sort={"by": "name", "order": "up"})),
    ("err-not-listable", CURRENT, lambda: qs("robots").params()),
    ("err-query-too-long", CURRENT, lambda: qs("nodes").filter(id__in=[uuid.UUID(int=i) for i in range(400)])),
]


def render(chain: Callable[[], Any]) -> dict[str, Any]:
    """The compiled request (method, path, sorted query pairs) or the error it raises."""
    try:
        result = chain()
        if isinstance(result, list):  # .params() was called by the chain itself
            raise AssertionError("an error chain compiled: %r" % (result,))
        return {"method": result.method, "path": result.path,
                "params": [list(p) for p in sorted(result.params())]}
    except (ValueError, TypeError) as exc:
        return {"error": type(exc).__name__, "message": str(exc)}


def test_enough_chains() -> None:
    ids = [c[0] for c in CHAINS]
    assert len(ids) == len(set(ids))
    assert sum(1 for i in ids if not i.startswith("err-")) >= 40
    assert sum(1 for i in ids if i.startswith("err-")) >= 20


@pytest.mark.parametrize("name,dialect,chain", CHAINS, ids=[c[0] for c in CHAINS])
def test_compiled_request(name: str, dialect: Dialect, chain: Callable[[], Any], snapshot_json: Any) -> None:
    out = render(chain)
    assert ("error" in out) == name.startswith("err-"), out
    assert out == snapshot_json


# -- every compiled key is allowed by the recorded meta.schema ----------------------------------

_EXPR_FIELD = re.compile(r"\b(?:eq|lt|lte|gt|gte|in|nin|contains|startsWith|endsWith)\(([A-Za-z0-9_.\-]+),")


def _schemas() -> dict[str, dict]:
    raw = json.loads(SCHEMAS.read_text())
    return {k.split("/", 1)[1]: v["schema"] for k, v in raw.items() if v.get("schema")}


def _by_name(schemas: dict[str, dict], name: str) -> dict | None:
    return next((s for s in schemas.values() if s["name"] == name), None)


def _related(schemas: dict[str, dict], schema: dict, relation: str) -> dict | None:
    rel = schema.get("relations") or {}
    if relation not in (rel.get("allowed") or ()):
        return None
    return _by_name(schemas, (rel.get("schemas") or {}).get(relation, relation))


def _allowed(schemas: dict[str, dict], schema: dict, key: str, part: str) -> bool:
    """Is ``key`` (maybe ``relation.field``) in the ``part`` allow-list (filters/sorts)?"""
    if "." in key:
        rel, fld = key.split(".", 1)
        target = _related(schemas, schema, rel)
        return target is not None and _allowed(schemas, target, fld, part)
    return key in (schema[part]["allowed"] or ())


def _check_pairs(schemas: dict[str, dict], schema: dict, pairs: list[tuple[str, str]]) -> None:
    for key, value in pairs:
        if key.startswith("filter["):
            assert _allowed(schemas, schema, key[7:-1], "filters"), key
        elif key == "filter":
            fields = _EXPR_FIELD.findall(value)
            assert fields, value
            for fld in fields:
                assert _allowed(schemas, schema, fld, "filters"), (fld, value)
        elif key == "sort":
            for k in value.split(","):
                assert _allowed(schemas, schema, k.lstrip("-"), "sorts"), (k, value)
        elif key == "include":
            for path in value.split(","):
                s: dict | None = schema
                for seg in path.split("."):
                    s = _related(schemas, s, seg) if s else None
                    assert s is not None, (path, value)
        elif key == "fields":
            allowed = set(schema["fields"]["default"] or ()) | set(schema["fields"]["allowed"] or ())
            for f in value.split(","):
                assert f.lstrip("+-") in allowed, (f, value)
        elif key == "page[limit]":
            assert 1 <= int(value) <= schema["pagination"]["maxLimit"]
        elif key == "page[offset]":
            assert int(value) >= 0
        else:
            raise AssertionError(f"unexpected query key {key!r}")


def test_compiled_keys_are_allowed_by_recorded_schema() -> None:
    schemas = _schemas()
    checked = 0
    for name, dialect, chain in CHAINS:
        if dialect is not CURRENT or name.startswith("err-") or name == "nodes-raw-overrides":
            continue
        q = chain()
        schema = schemas.get(q.resource.name)
        if schema is None:  # log lists publish no schema (they answer 400 without filters)
            continue
        _check_pairs(schemas, schema, q.params())
        checked += 1
    assert checked >= 40


def test_schema_check_can_fail() -> None:
    """The checker itself rejects keys outside the allow-lists."""
    schemas = _schemas()
    for bad in ([("filter[createdAt]", "x")], [("sort", "id")], [("include", "realm")],
                [("fields", "+secret")], [("filter", "eq(foo,'x')")], [("page[limit]", "51")]):
        with pytest.raises(AssertionError):
            _check_pairs(schemas, schemas["nodes"], bad)
