"""Every resource, through the documented helpers: create -> get -> find by filter -> update ->
delete -> get is None, parametrized from the registry (adding a resource adds its test), on every
Hub era that offers it (``era`` marks: robots on 0.8.5, client-* resources on 0.14).

:class:`Factory` creates any record (and what it needs) through the client API: required body
keys get a value by their catalog type, a ``<x>_id`` key gets a freshly made ``<x>`` record, and
the few records that need a particular chain of others are the :data:`RECIPES` table. The
special-operation tests import it from here.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from flame_hub import models as m
from flame_hub.errors import ServerError
from flame_hub.models._generate import python_attr
from flame_hub.resources import CURRENT_ERA, ERAS, REGISTRY, FieldSpec, Resource, get_resource

#: Literal values for required body keys whose type alone does not say what the Hub accepts.
VALUES: dict[str, Any] = {
    "email": lambda: f"t{uuid.uuid4().hex[:10]}@example.org",
    "host": lambda: f"{unique_name()}.example.org",  # registry hosts are unique (additions 215)
    "path": lambda: "main.py",
    "message": lambda: "hello from the tests",
    "level": lambda: "info",
    ("policies", "type"): lambda: "composite",
}


def unique_name() -> str:
    """Lowercase letters and digits only (the Hub refuses upper case and hyphens in some names)."""
    return "t" + uuid.uuid4().hex[:14]


class Factory:
    """Creates records through the clients and remembers them (most recent first)."""

    def __init__(self, auth_client: Any, core_client: Any, storage_client: Any,
                 era: str = CURRENT_ERA) -> None:
        self.clients = {"auth": auth_client, "core": core_client, "storage": storage_client}
        self.era = era  # the catalog era whose bodies the Hub takes
        self._master_realm: Any = None

    def client(self, res: Resource) -> Any:
        return self.clients[res.service]

    @property
    def master_realm(self) -> Any:
        if self._master_realm is None:
            self._master_realm = self.clients["auth"].find_realms(filter={"name": "master"})[0]
        return self._master_realm

    # --- values ----------------------------------------------------------------------------
    def value(self, res: Resource, key: str, spec: FieldSpec) -> Any:
        attr = python_attr(key)
        for k in ((res.name, attr), attr):
            if k in VALUES:
                return VALUES[k]()
        if attr == "realm_id":
            return self.master_realm.id
        if spec.format == "uuid" and attr.endswith("_id"):
            return self.make(_target(attr)).id
        if spec.enum:
            return spec.enum[0]
        return {"string": unique_name, "boolean": lambda: True, "integer": lambda: 1,
                "number": lambda: 1, "array": list, "object": dict}.get(spec.type or "string", unique_name)()

    def create_args(self, res: Resource) -> dict[str, Any]:
        """Keyword arguments for ``create_<x>`` (the body field names)."""
        if res.name in RECIPES:
            return RECIPES[res.name](self)
        spec = res.era(self.era)
        args = {python_attr(k): self.value(res, k, f) for k, f in spec.create_required.items()}
        if spec.create_one_of:  # the keys the branch of the chosen discriminator requires
            one_of = spec.create_one_of
            chosen = args[python_attr(one_of["discriminator"])]
            branch = next(b for b in one_of["branches"] if chosen in b["protocols"])
            args.update({python_attr(k): self.value(res, k, spec.create_fields[k]) for k in branch["required"]})
        return args

    def make(self, name: str, **overrides: Any) -> Any:
        res = get_resource(name)
        if name == "bucket-files":
            return self.upload()[0]
        args = {**self.create_args(res), **overrides}
        return getattr(self.client(res), f"create_{res.singular}")(**args)

    # --- chains ------------------------------------------------------------------------------
    def upload(self, bucket: Any = None, files: tuple = (("data.txt", b"hello world\n", "text/plain"),)) -> list:
        bucket = bucket or self.make("buckets")
        return self.clients["storage"].upload_to_bucket(bucket, *files)

    def analysis_node(self) -> tuple[Any, Any]:
        """An analysis and a node that belongs to its project (what an analysis node needs)."""
        project, node = self.make("projects"), self.make("nodes")
        self.clients["core"].create_project_node(project, node)
        analysis = self.clients["core"].create_analysis(project)
        return analysis, node

    def code_bucket(self, analysis: Any) -> Any:
        buckets = self.clients["core"].find_analysis_buckets(
            filter={"analysis_id": analysis.id, "type": "CODE"})
        return buckets[0]


def _target(attr: str) -> str:
    """``analysis_bucket_id`` -> ``analysis-buckets``."""
    return get_resource(attr[: -len("_id")]).name


def _analysis_node_args(f: Factory) -> dict[str, Any]:
    analysis, node = f.analysis_node()
    return {"analysis_id": analysis.id, "node_id": node.id}


def _analysis_bucket_file_args(f: Factory) -> dict[str, Any]:
    analysis = f.clients["core"].create_analysis(f.make("projects"))
    if "analysisBucketId" in get_resource("analysis-bucket-files").era(f.era).create_required:
        bucket = f.code_bucket(analysis)  # 0.14 provisions an analysis' buckets
        stored = f.upload(bucket.bucket_id)[0]
        return {"path": stored.path, "bucket_file_id": stored.id, "bucket_id": bucket.bucket_id,
                "analysis_bucket_id": bucket.id}
    # 0.8.5: the analysis bucket is made by hand; the file names its analysis bucket (bucket_id)
    # and the stored file (external_id)
    bucket = f.clients["core"].create_analysis_bucket(bucket_type="CODE", analysis_id=analysis.id)
    stored = f.upload()[0]
    return {"bucket_id": bucket.id, "name": unique_name(), "external_id": stored.id}


def _log_args(f: Factory) -> dict[str, Any]:
    return {**_analysis_node_args(f), "level": "info", "message": "hello from the tests"}


#: Services a resource's chain needs on a deployed Hub: 0.14 provisions an analysis' buckets
#: through the message broker (resources.json: none on a deployment without it; examples 068)
NEEDS = {"analysis-bucket-files": [pytest.mark.needs("broker", eras=("0.14.0",))]}

#: Records that need a particular chain of other records.
RECIPES = {
    "analysis-nodes": _analysis_node_args,
    "analysis-bucket-files": _analysis_bucket_file_args,
    "analysis-node-logs": _log_args,
}


# --- the per-resource chain ------------------------------------------------------------------------

#: update candidates, most telling first: (attribute, new value)
UPDATES = (("display_name", "Shown Name"), ("description", "changed by the tests"),
           ("comment", "looks good"), ("root", True), ("hidden", True), ("active", False),
           ("external_name", "tchangedname"), ("name", None))


def _crud_resources() -> list:
    """Every resource with list/get/create/delete, marked with the eras that offer them."""
    out = []
    for res in REGISTRY.values():
        eras = [e for e in ERAS if all(res.era(e).supports(op) for op in ("create", "get", "delete", "list"))]
        if eras:
            marks = [pytest.mark.era(*eras), *NEEDS.get(res.name, ())]
            out.append(pytest.param(res.name, id=res.name, marks=marks))
    return out


def _update_choice(res: Resource, era: str) -> tuple[str, object] | None:
    fields = {python_attr(k): f for k, f in res.era(era).update_fields.items()}
    for attr, value in UPDATES:
        if attr in fields and not fields[attr].enum:
            return attr, (unique_name() if value is None else value)
    return None


def _filter_for(res: Resource, record, era: str) -> tuple[str, object]:
    """A filter key the resource allows whose value identifies the record (id preferred)."""
    allowed = [python_attr(k) for k in res.era(era).filters]
    for attr in ("id", "name", *allowed):
        value = getattr(record, attr, None) if attr in allowed else None
        if value is not None and not isinstance(value, bool):
            return attr, value
    raise AssertionError(f"{res.name}: no usable filter in {allowed}")


@pytest.fixture
def era(hub_env) -> str:
    """The catalog era of the Hub under test."""
    return hub_env.dialect.catalog_era


@pytest.fixture
def factory(auth_client, core_client, storage_client, era):
    return Factory(auth_client, core_client, storage_client, era)


@pytest.mark.parametrize("name", _crud_resources())
def test_crud_chain(name, factory, era):
    res = get_resource(name)
    client = factory.client(res)
    model = m.model_for(res)
    create = getattr(client, f"create_{res.singular}")
    get = getattr(client, f"get_{res.singular}")
    find = getattr(client, f"find_{res.attr}")
    delete = getattr(client, f"delete_{res.singular}")

    created = create(**factory.create_args(res))
    assert isinstance(created, model) and created.id is not None

    fetched = get(created.id)
    assert isinstance(fetched, model) and fetched.id == created.id
    assert get(str(created.id)).id == created.id and get(created).id == created.id

    key, value = _filter_for(res, created, era)
    found = find(filter={key: value})
    assert created.id in {r.id for r in found}, f"find_{res.attr}(filter={{{key!r}: ...}})"
    assert all(getattr(r, key) == value for r in found)

    choice = _update_choice(res, era)
    if choice is not None:
        attr, new = choice
        updated = getattr(client, f"update_{res.singular}")(created, **{attr: new})
        assert isinstance(updated, model) and getattr(updated, attr) == new
        assert getattr(get(created.id), attr) == new

    assert delete(created) is None
    if res.era(era).operations["get"].unknown_id_status == 500:
        # 0.8.5 analysis buckets (and files): an unknown id is a 500 (legacy additions 337-339)
        with pytest.raises(ServerError):
            get(created.id)
    else:
        assert get(created.id) is None
    assert created.id not in {r.id for r in find(filter={key: value} if choice is None else {})}


@pytest.mark.parametrize("name", _crud_resources())
def test_get_list_returns_models_with_relations_included(name, factory, era):
    res = get_resource(name)
    client = factory.client(res)
    factory.make(name)
    items = getattr(client, f"get_{res.attr}")()
    assert items and all(isinstance(i, m.model_for(res)) for i in items)
    relations = [python_attr(r) for r in res.era(era).relations]
    assert len(items) <= 50
    item = next((i for i in items if i.id is not None), None)
    assert item is not None
    for rel in relations:
        assert rel in item.model_fields_set, f"{res.model_name}.{rel} was not included"


def test_get_by_name_where_the_hub_allows_it(auth_client, storage_client, factory):
    master = auth_client.get_realm_by_name("master")
    assert isinstance(master, m.Realm) and master.name == "master"
    assert auth_client.get_realm_by_name("no-such-realm") is None
    bucket = factory.make("buckets")
    assert storage_client.get_bucket_by_name(bucket.name).id == bucket.id
    with pytest.raises(ValueError):
        auth_client.get_realm("master")  # a name is not an id: refused before sending
