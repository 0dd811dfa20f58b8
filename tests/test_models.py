"""Models: generated from the registry, tolerant of Hub drift, both key spellings accepted."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import pydantic
import pytest

from _shared import ADDITIONS, EXAMPLES

import flame_hub.models as m
import flame_hub.types
from flame_hub.dialects import CURRENT, LEGACY
from flame_hub.models._generate import python_attr
from flame_hub.resources import ERAS, REGISTRY, get_resource

NODE_ID = "16c9e5fe-546f-4754-974a-59fd1a9719b8"
REALM_ID = "4b3ca244-c488-4e86-ae3d-a677cd8255c4"

CAMEL_NODE = {
    "id": NODE_ID, "externalName": "ext", "publicKey": None, "name": "n1", "hidden": False,
    "type": "default", "online": False, "registryId": None, "registryProjectId": None,
    "clientId": None, "robotId": None, "realmId": REALM_ID,
    "createdAt": "2026-11-29T11:45:14.130Z", "updatedAt": "2026-11-29T11:45:14.130Z",
}
SNAKE_NODE = {
    "id": NODE_ID, "external_name": "ext", "public_key": None, "name": "n1", "hidden": False,
    "type": "default", "online": False, "registry_id": None, "registry_project_id": None,
    "robot_id": None, "realm_id": REALM_ID,
    "created_at": "2026-11-29T11:45:14.130Z", "updated_at": "2026-11-29T11:45:14.130Z",
}


# --- generation --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_resource_has_a_read_model_with_every_record_key(name):
    res = REGISTRY[name]
    model = getattr(m, res.model_name)
    assert model is m.model_for(res) and issubclass(model, m.HubModel)
    for era in ERAS:
        spec = res.eras[era]
        if not spec.available:
            continue
        for key in spec.record_keys:
            field = model.model_fields[python_attr(key)]
            assert not field.is_required(), f"{res.model_name}.{key} must default to None"
        for rel in spec.relations:
            assert python_attr(rel) in model.model_fields


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_request_models_follow_the_catalog(name):
    res = REGISTRY[name]
    spec = res.era()
    if spec.available and spec.supports("create"):
        create = m.request_model(res, "create")
        assert create.__name__ == "Create" + res.model_name
        for key in (*spec.create_required, *spec.create_optional):
            assert python_attr(key) in create.model_fields
    if spec.available and spec.supports("update") and spec.update_fields:
        update = m.request_model(res, "update")
        assert {python_attr(k) for k in spec.update_fields} <= set(update.model_fields)
        assert not any(f.is_required() for f in update.model_fields.values())


def test_compatibility_names_exist():
    for name in ("Node", "MasterImageGroup", "MasterImage", "Project", "ProjectNode", "Analysis",
                 "AnalysisNode", "Log", "AnalysisBucket", "AnalysisBucketFile", "Registry",
                 "RegistryProject", "Bucket", "BucketFile", "Realm", "Permission", "Role",
                 "RolePermission", "User", "UserPermission", "UserRole", "Client",
                 "NodeRegistryCredentials", "ClientCredentials", "AccessToken", "RefreshToken",
                 "ResourceListMeta", "NodeType", "ProjectNodeApprovalStatus", "AnalysisCommand",
                 "AnalysisBucketType", "UNSET", "ProcessStatus", "LogLevel"):
        assert hasattr(m, name), name
        assert name in m.__all__
    for kind, names in (("Create", ["Node", "Project", "ProjectNode", "Analysis", "AnalysisNode",
                                    "AnalysisBucket", "AnalysisBucketFile", "Registry",
                                    "RegistryProject", "Bucket", "Realm", "Permission", "Role",
                                    "RolePermission", "User", "UserPermission", "UserRole",
                                    "Client", "AnalysisNodeLog"]),
                        ("Update", ["Node", "Project", "ProjectNode", "Analysis", "AnalysisNode",
                                    "AnalysisBucketFile", "Registry", "RegistryProject", "Realm",
                                    "Permission", "Role", "User", "Client"])):
        for name in names:
            assert issubclass(getattr(m, kind + name), m.RequestModel), kind + name
    assert m.UpdateClientCredentials(secret=None).to_body() == {"secret": None}
    assert m.UpdateClientCredentials(display_name="x").to_body() == {"displayName": "x"}


def test_enums_are_str_enums_with_catalog_values():
    node_type = m.ENUMS["NodeType"]
    assert node_type("aggregator") == "aggregator"
    assert {e.value for e in node_type} == {"aggregator", "default"}
    assert {e.value for e in m.AnalysisBucketType} == {"CODE", "RESULT", "TEMP"}
    assert m.AnalysisBucketType is m.ENUMS["AnalysisBucketType"] is flame_hub.types.AnalysisBucketType
    assert {"buildStart", "configurationLock", "distributionCheck", "storageCheck"} <= {
        e.value for e in m.ENUMS["AnalysisCommand"]}
    assert {"approved", "rejected"} == {e.value for e in m.ENUMS["ProjectNodeApprovalStatus"]}
    assert m.RegistryProjectType.MASTER_IMAGES == "masterImages"
    assert str(m.ProcessStatus.EXECUTING) == "executing"


def test_log_models_share_the_upstream_log_base():
    assert issubclass(m.AnalysisLog, m.Log) and issubclass(m.AnalysisNodeLog, m.Log)
    log = m.AnalysisNodeLog.model_validate({
        "time": "1764416714130", "level": "info", "channel": "http", "service": "core",
        "message": "hi", "labels": {"analysisId": NODE_ID}})
    assert log.level is m.LogLevel.INFO and log.labels["analysisId"] == NODE_ID
    assert log.time == "1764416714130"  # not a date: kept as the string the Hub sent


# --- tolerance ---------------------------------------------------------------------------------

def test_camel_and_snake_input_give_the_same_model():
    a, b = m.Node.model_validate(CAMEL_NODE), m.Node.model_validate(SNAKE_NODE)
    assert a.realm_id == b.realm_id == uuid.UUID(REALM_ID)
    assert a.external_name == b.external_name == "ext"
    assert isinstance(a.created_at, datetime) and a.created_at == b.created_at
    assert a.type is m.ENUMS["NodeType"].DEFAULT and a.type == "default"


def test_model_dump_is_snake_case_and_by_alias_camel_case():
    node = m.Node.model_validate(CAMEL_NODE)
    dumped = node.model_dump()
    assert "realm_id" in dumped and "realmId" not in dumped and dumped["name"] == "n1"
    wire = node.model_dump(by_alias=True, mode="json")
    assert wire["realmId"] == REALM_ID and "realm_id" not in wire
    assert m.Node.model_validate(wire) == node


def test_unknown_keys_are_kept():
    node = m.Node.model_validate({**CAMEL_NODE, "brandNewField": {"x": 1}})
    assert node.model_extra == {"brandNewField": {"x": 1}}
    assert node.brandNewField == {"x": 1}
    assert node.model_dump()["brandNewField"] == {"x": 1}


def test_missing_fields_default_to_none():
    node = m.Node.model_validate({"name": "only-a-name"})  # e.g. after fields=name
    assert node.id is None and node.realm_id is None and node.created_at is None
    assert m.Node().name is None


def test_unknown_enum_values_and_odd_ids_do_not_break_parsing():
    node = m.Node.model_validate({**CAMEL_NODE, "type": "satellite"})
    assert node.type == "satellite"
    project = m.RegistryProject.model_validate({"id": NODE_ID, "externalId": "not-a-uuid-42"})
    assert project.external_id == "not-a-uuid-42"  # upstream issue #24


def test_relations_are_typed():
    node = m.Node.model_validate({
        **CAMEL_NODE,
        "registry": {"id": NODE_ID, "name": "reg", "host": "h"},
        "registryProject": {"id": NODE_ID, "type": "node", "externalName": "x"},
    })
    assert isinstance(node.registry, m.Registry) and node.registry.name == "reg"
    assert isinstance(node.registry_project, m.RegistryProject)
    assert node.registry_project.type is m.RegistryProjectType.NODE
    user = m.User.model_validate({"id": NODE_ID, "realm": {"id": REALM_ID, "name": "master"}})
    assert isinstance(user.realm, m.Realm)
    policy = m.Policy.model_validate({"id": NODE_ID, "children": [{"id": REALM_ID, "name": "c"}]})
    assert isinstance(policy.children[0], m.Policy)


def test_legacy_fields_and_old_names():
    analysis = m.Analysis.model_validate({"id": NODE_ID, "run_status": "running",
                                          "buildNodesValid": True})
    assert analysis.run_status == "running"
    assert analysis.distribution_nodes_valid is True  # 1.1.0 name of buildNodesValid
    image = m.MasterImage.model_validate({"id": NODE_ID, "commandArguments": None})
    assert image.command_arguments is None  # upstream bug: None was rejected
    image = m.MasterImage.model_validate({"id": NODE_ID, "commandArguments": [{"value": "-u"}]})
    assert image.command_arguments == [{"value": "-u", "position": None}]  # plain dicts, as 1.1.0


def test_special_and_token_models():
    creds = m.ClientCredentials.model_validate(
        {"id": NODE_ID, "name": "n", "displayName": "n", "secret": "s"})
    assert creds.display_name == "n" and creds.id == uuid.UUID(NODE_ID)
    reg = m.NodeRegistryCredentials.model_validate(
        {"host": "h", "externalName": "e", "accountName": None, "accountSecret": None})
    assert reg.external_name == "e"
    token = m.RefreshToken.model_validate({"access_token": "a", "expires_in": 900,
                                           "token_type": "Bearer", "refresh_token": "r"})
    assert isinstance(token, m.AccessToken) and token.scope is None
    meta = m.ResourceListMeta.model_validate({"total": 3, "limit": 50, "offset": 0,
                                              "schema": {"name": "node"}})
    assert meta.response_schema == {"name": "node"} and meta.total == 3


def test_list_adapter_is_cached_and_validates_a_page():
    adapter = m.list_adapter(m.Node)
    assert adapter is m.list_adapter(m.Node)
    nodes = adapter.validate_python([CAMEL_NODE, SNAKE_NODE])
    assert [n.name for n in nodes] == ["n1", "n1"]


# --- request models ----------------------------------------------------------------------------

def test_create_requires_what_every_era_requires():
    with pytest.raises(pydantic.ValidationError):
        m.CreateNode()
    assert m.CreateNode(name="x").to_body() == {"name": "x"}


def test_request_ids_accept_uuid_string_and_model():
    realm = m.Realm.model_validate({"id": REALM_ID, "name": "master"})
    for value in (realm, REALM_ID, uuid.UUID(REALM_ID)):
        body = m.CreateNode(name="x", realm_id=value).to_body()
        assert body == {"name": "x", "realmId": REALM_ID}
    with pytest.raises(ValueError):
        m.CreateNode(name="x", realm_id="not-a-uuid")
    with pytest.raises(ValueError):
        m.CreateNode(name="x", type="satellite")  # enum checked before sending


def test_update_sends_only_what_was_given_and_none_as_null():
    assert m.UpdateNode(hidden=True).to_body() == {"hidden": True}
    assert m.UpdateNode(external_name=None).to_body() == {"externalName": None}
    assert m.UpdateNode(hidden=m.UNSET, public_key="k").to_body() == {"publicKey": "k"}
    assert m.UpdateNode().to_body() == {}
    with pytest.raises(pydantic.ValidationError):
        m.UpdateNode(hiden=True)  # typo: refused


def test_request_body_spelled_per_dialect():
    body = m.UpdateNode(external_name="e", realm_id=REALM_ID)
    assert body.to_body(CURRENT.wire_key) == {"externalName": "e", "realmId": REALM_ID}
    assert body.to_body(LEGACY.wire_key) == {"external_name": "e", "realm_id": REALM_ID}


def test_command_arguments_get_their_position_in_the_callers_list_as_in_1_1_0():
    """flame-hub-client 1.1.0 filled in ``position: None`` in the list it was given, and its users
    compare the record the Hub returns with that list (its own test_update_analysis does)."""
    args = [{"value": "-u"}, {"value": "-v", "position": "after"}]
    body = m.CreateAnalysis(project_id=NODE_ID, image_command_arguments=args).to_body()
    assert args == [{"value": "-u", "position": None}, {"value": "-v", "position": "after"}]
    assert body["imageCommandArguments"] == args


def test_unset_is_a_falsy_class_sentinel():
    assert repr(m.UNSET) == "UNSET" and not m.UNSET and isinstance(m.UNSET, type)


# --- recorded Hub answers parse ----------------------------------------------------------------

def _recorded_records():
    out = []
    for path in [*sorted(EXAMPLES.glob("*.json")), *sorted(ADDITIONS.glob("*.json"))]:
        ex = json.loads(path.read_text())
        body, req = ex["response"]["body"], ex["request"]
        segment = req["path"].strip("/").split("/")[0]
        if not isinstance(body, dict) or "data" not in body or ex["response"]["status"] >= 300:
            continue
        try:
            res = get_resource(segment)
        except KeyError:
            continue
        records = body["data"] if isinstance(body["data"], list) else [body["data"]]
        if req["path"].count("/") > 2:  # special routes (upload answers bucket files)
            res = get_resource("bucket-files") if req["path"].endswith("/upload") else res
        out += [pytest.param(res.name, rec, id=f"{path.stem}-{i}") for i, rec in enumerate(records)]
    return out


@pytest.mark.parametrize(("name", "record"), _recorded_records())
def test_recorded_records_parse_without_extras(name, record):
    model = m.model_for(name)
    parsed = model.model_validate(record)
    assert parsed.model_extra == {}, f"{model.__name__} misses recorded keys {set(parsed.model_extra)}"
    if "id" in record:
        assert parsed.id == uuid.UUID(record["id"])
    assert model.model_validate(parsed.model_dump(by_alias=True, mode="json")) == parsed


@pytest.mark.parametrize(
    "model, values",
    [
        ("Robot", {"name": "r", "secret": "s3cr3t-value"}),
        ("Client", {"name": "c", "secret": "s3cr3t-value"}),
        ("Registry", {"name": "reg", "account_secret": "s3cr3t-value"}),
        ("ClientCredentials", {"secret": "s3cr3t-value"}),
        ("NodeRegistryCredentials", {"host": "h", "account_secret": "s3cr3t-value"}),
        ("RefreshToken", {"access_token": "s3cr3t-value", "refresh_token": "s3cr3t-value"}),
        ("CreateUser", {"name": "u", "email": "u@example.com", "password": "s3cr3t-value"}),
    ],
)
def test_credentials_stay_out_of_repr_but_are_readable(model, values):
    import flame_hub.models as m

    cls = getattr(m, model)
    known = {k: v for k, v in values.items() if k in cls.model_fields}
    assert any(v == "s3cr3t-value" for v in known.values()), f"{model} has no secret field"
    obj = cls(**known)
    assert "s3cr3t-value" not in repr(obj) and "s3cr3t-value" not in str(obj)
    assert "s3cr3t-value" in obj.model_dump_json()  # still sent and readable


def test_field_and_includable_names_follow_the_markers_as_in_1_1_0():
    """``get_field_names``/``get_includable_names`` read the ``IsOptionalField``/``IsIncludable``
    markers, so models of a script's own take part; the class's own names come first."""
    import typing as t

    from flame_hub import get_field_names, get_includable_names

    class Base(pydantic.BaseModel):
        bar: str
        foo: t.Annotated[t.Optional[str], m.IsOptionalField] = None
        rel: t.Annotated[t.Optional[str], m.IsIncludable] = None

    class Extended(Base):
        plain: t.Optional[bool] = None
        bar_foo: t.Annotated[int, m.IsOptionalField] = 0

    assert get_field_names(Base) == ("foo",) and get_includable_names(Base) == ("rel",)
    assert get_field_names(Extended) == ("bar_foo", "foo")
    assert get_field_names(m.User) == ("email",) and get_field_names(m.Registry) == ("account_secret",)
    assert set(get_includable_names(m.Node)) == {"registry", "registry_project"}
    assert set(get_includable_names(m.UserRole)) >= {"user", "role"}  # 1.1.0 missed these two
    # the relations the current Hub embeds; the old Hub's name for one (bucket) is no includable
    assert get_includable_names(m.AnalysisBucketFile) == ("analysis", "analysis_bucket")
    assert get_field_names(m.Node) == () and get_includable_names(m.Realm) == ()
    with pytest.raises(TypeError):
        get_field_names("User")


def test_resource_list_and_wrapped_resource_parse_whole_answers():
    page = m.ResourceList[m.Node].model_validate(
        {"data": [CAMEL_NODE], "meta": {"total": 1, "limit": 50, "offset": 0}})
    assert page.data == [m.Node.model_validate(CAMEL_NODE)] and page.meta.total == 1
    one = m.WrappedResource[m.Node](data=CAMEL_NODE, meta={"schema": {"fields": []}})
    assert one.data.external_name == "ext" and one.meta.response_schema == {"fields": []}
    assert issubclass(m.Node, m.CoreBaseModel) and issubclass(m.User, m.AuthBaseModel)
    assert issubclass(m.Bucket, m.StorageBaseModel) and issubclass(m.CreateNode, m.ConfigBaseModel)
    with pytest.raises(pydantic.ValidationError):
        m.ResourceList[m.Node].model_validate({"data": [CAMEL_NODE]})  # meta is required, as in 1.1.0
