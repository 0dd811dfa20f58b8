"""The registry carries every per-resource fact the package needs — the Python names, the model
shape (enums, shared bases, to-many relations, command arguments, flame-hub-client 1.1.0's
compatibility fields, special-route models) and the fake Hub's per-era facts — and the catalog
build (``tools/build_catalog.py``) is what produces them."""

from __future__ import annotations

import json
import sys
import typing
from pathlib import Path

import pytest

from _shared import HUB_SPEC

import flame_hub
from flame_hub import models
from flame_hub._naming import to_snake
from flame_hub.resources import CURRENT_ERA, ERAS, LEGACY_ERA, REGISTRY, CompatField

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def build_catalog():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import build_catalog
    finally:
        sys.path.pop(0)
    return build_catalog


@pytest.fixture(scope="module")
def recorded() -> dict:
    return json.loads((HUB_SPEC / "resources.json").read_text())["resources"]


# --- the registry's attributes -------------------------------------------------------------------

def test_python_names_are_registry_attributes():
    assert (REGISTRY["analyses"].attr, REGISTRY["analyses"].singular, REGISTRY["analyses"].model_name) \
        == ("analyses", "analysis", "Analysis")
    assert REGISTRY["registries"].singular == "registry"
    assert REGISTRY["policies"].singular == "policy"
    assert (REGISTRY["analysis-node-logs"].attr, REGISTRY["analysis-node-logs"].singular,
            REGISTRY["analysis-node-logs"].model_name) == ("analysis_node_logs", "analysis_node_log",
                                                           "AnalysisNodeLog")
    assert REGISTRY["identity-providers"].model_name == "IdentityProvider"


def test_enum_classes_are_registry_attributes():
    assert REGISTRY["nodes"].enums == {"type": "NodeType"}
    analyses = REGISTRY["analyses"].enums
    # shared by field name across resources (flame-hub-client's names) ...
    assert analyses["build_status"] == analyses["execution_status"] == "ProcessStatus"
    assert REGISTRY["master-images"].enums["build_status"] == "ProcessStatus"
    assert REGISTRY["analysis-logs"].enums == REGISTRY["analysis-node-logs"].enums \
        == {"level": "LogLevel", "channel": "LogChannel"}
    # ... else <Model><Field>
    assert analyses["run_status"] == "AnalysisRunStatus"
    assert REGISTRY["project-nodes"].enums == {"approval_status": "ProjectNodeApprovalStatus"}
    assert REGISTRY["projects"].enums == {}
    # enum keys of special routes' bodies
    assert REGISTRY["analyses"].route_enums == {"command": {"command": "AnalysisCommand"}}
    assert REGISTRY["master-images"].route_enums == {"command": {"command": "MasterImageCommand"}}
    assert REGISTRY["registries"].route_enums == {"registry_command": {"command": "RegistryCommand"}}


def test_model_facts_are_registry_attributes():
    assert REGISTRY["analysis-logs"].model_base == REGISTRY["analysis-node-logs"].model_base == "Log"
    assert REGISTRY["nodes"].model_base is None
    assert REGISTRY["policies"].to_many == ("children",)
    assert REGISTRY["analyses"].command_argument_fields == ("image_command_arguments",)
    assert REGISTRY["master-images"].command_argument_fields == ("command_arguments",)
    assert REGISTRY["analyses"].compat_fields == (
        CompatField("registry", model="Registry"),
        CompatField("distribution_nodes_valid", type="boolean",
                    aliases=("buildNodesValid", "build_nodes_valid")),
    )
    assert REGISTRY["clients"].compat_fields == (CompatField("backchannel_logout_uri", type="string"),)
    assert [f.attr for f in REGISTRY["user-roles"].compat_fields] == ["user_realm", "role_realm"]
    assert REGISTRY["nodes"].response_models == {"client_credentials": "ClientCredentials",
                                                 "registry_credentials": "NodeRegistryCredentials"}
    assert REGISTRY["nodes"].request_models == {"update_client_credentials": "UpdateClientCredentials"}
    assert REGISTRY["master-images"].command_helpers == ("sync_master_images", "build_master_image")
    assert REGISTRY["analyses"].command_helpers == ()


def test_fake_hub_facts_are_registry_attributes():
    realms, users = REGISTRY["realms"], REGISTRY["users"]
    for era in ERAS:
        assert realms.era(era).operations["list"].public and realms.era(era).operations["get"].public
        assert not realms.era(era).operations["create"].public
    assert users.era(CURRENT_ERA).operations["list"].public  # authup beta.62 (additions 296)
    assert not users.era(LEGACY_ERA).operations["list"].public  # beta.24 answers 401 (legacy 018)
    assert not REGISTRY["nodes"].era(CURRENT_ERA).operations["list"].public
    assert REGISTRY["projects"].era(CURRENT_ERA).generates_name
    assert REGISTRY["analyses"].era(CURRENT_ERA).generates_name
    assert not REGISTRY["analyses"].era(LEGACY_ERA).generates_name  # legacy additions 323
    assert not REGISTRY["nodes"].era(CURRENT_ERA).generates_name
    assert REGISTRY["analyses"].era(CURRENT_ERA).recalculated_keys == ("executionProgress",
                                                                       "configurationImageValid")
    assert REGISTRY["analyses"].era(LEGACY_ERA).recalculated_keys == ()


# --- what reads them -------------------------------------------------------------------------------

def test_models_follow_the_registry_facts():
    assert models.AnalysisLog.__bases__[0] is models.Log and models.AnalysisNodeLog.__bases__[0] is models.Log
    assert typing.get_origin(typing.get_args(models.Policy.model_fields["children"].annotation)[0]) is list
    analysis = models.Analysis.model_validate({"id": "00000000-0000-0000-0000-000000000001",
                                               "buildNodesValid": True})
    assert analysis.distribution_nodes_valid is True and analysis.registry is None
    assert models.Analysis.model_validate({"imageCommandArguments": [{"value": "-x"}]}) \
        .image_command_arguments == [{"value": "-x", "position": None}]
    assert models.ENUMS["ProcessStatus"] is type(models.MasterImage.model_validate(
        {"buildStatus": "started"}).build_status)
    assert set(models.ClientCredentials.model_fields) >= {"id", "secret"}
    assert "secret" in models.UpdateClientCredentials.model_fields


def test_command_helpers_replace_the_generated_command_helper():
    assert hasattr(flame_hub.CoreClient, "sync_master_images")
    assert hasattr(flame_hub.CoreClient, "build_master_image")
    assert not hasattr(flame_hub.CoreClient, "send_master_image_command")
    assert hasattr(flame_hub.CoreClient, "send_analysis_command")
    assert hasattr(flame_hub.CoreClient, "send_registry_command")


# --- the catalog build produces them ---------------------------------------------------------------

def test_build_derives_python_names_and_enums(build_catalog, recorded):
    python = build_catalog.build_python("analysis-bucket-files", recorded["analysis-bucket-files"])
    assert (python["attr"], python["singular"], python["model"]) == (
        "analysis_bucket_files", "analysis_bucket_file", "AnalysisBucketFile")
    assert build_catalog.build_python("policies", recorded["policies"])["singular"] == "policy"
    nodes = build_catalog.build_python("nodes", recorded["nodes"])
    assert nodes["enums"] == {"type": "NodeType"}
    assert nodes["response_models"]["registry_credentials"] == "NodeRegistryCredentials"
    analyses = build_catalog.build_python("analyses", recorded["analyses"])
    assert analyses["enums"]["distribution_status"] == "ProcessStatus"
    assert analyses["route_enums"] == {"command": {"command": "AnalysisCommand"}}


def test_committed_python_blocks_are_the_build(build_catalog, recorded):
    committed = json.loads((ROOT / "flame_hub" / "_catalog.json").read_text())["resources"]
    for name, raw in recorded.items():
        assert committed[name]["python"] == build_catalog.build_python(name, raw), name


def test_hand_kept_python_facts_name_what_exists(build_catalog):
    """A typo in a hand-kept table would silently do nothing: every entry names a resource, and
    a field, relation or route that resource has on some era."""
    tables = build_catalog
    assert set(tables.PYTHON) <= set(REGISTRY)
    assert set(tables.IRREGULAR_SINGULARS) <= {r.attr.rsplit("_", 1)[-1] for r in REGISTRY.values()}
    for name, facts in tables.PYTHON.items():
        res = REGISTRY[name]
        eras = [res.era(e) for e in ERAS if res.available(e)]
        record = {k for spec in eras for k in spec.record_keys}
        fields = {to_snake(k) for k in record}
        relations = {to_snake(r) for spec in eras for r in spec.relations}
        routes = {r for spec in eras for r in spec.special_routes}
        for attr in facts.get("command_arguments", ()):
            assert attr in fields and all(spec.record_keys[k].type == "array" for spec in eras
                                          for k in spec.record_keys if to_snake(k) == attr)
        for attr in facts.get("to_many", ()):
            assert attr in relations, (name, attr)
        for attr, compat in facts.get("compat_fields", {}).items():
            assert attr not in fields and attr not in relations, (name, attr)  # no era sends it
            assert ("model" in compat) != ("type" in compat), (name, attr)
        for route in [*facts.get("response_models", {}), *facts.get("request_models", {})]:
            assert route in routes, (name, route)
    every_field = {to_snake(k) for r in REGISTRY.values() for e in ERAS
                   if r.available(e) for k in r.era(e).record_keys}
    assert set(tables.SHARED_ENUMS) <= every_field
    for (res, era), ops in tables.PUBLIC_OPERATIONS.items():
        assert all(REGISTRY[res].era(era).operations[op].method == "GET" for op in ops), (res, era)
    for res, era in [*tables.GENERATED_NAMES, *tables.RECALCULATED]:
        assert REGISTRY[res].era(era).supports("create"), (res, era)
    for (res, era), keys in tables.RECALCULATED.items():
        assert set(keys) <= set(REGISTRY[res].era(era).record_keys), (res, era)


def test_fake_hub_behaviour_is_keyed_by_registry_resources_and_routes():
    """The fake Hub's per-resource behaviour is code keyed by resource (and route); the keys are
    the registry's, and every special route of every era has its handler."""
    from flame_hub.testing import FakeHub

    behaviour = FakeHub()._core.behaviour
    hooks = [behaviour._before_create, behaviour._after_write, behaviour._before_delete,
             behaviour._on_remove]
    assert all(set(table) <= set(REGISTRY) for table in hooks)
    routes = {(r.name, name) for r in REGISTRY.values() for e in ERAS if r.available(e)
              for name in r.era(e).special_routes}
    assert set(behaviour._special) == routes


def test_shared_base_model_is_a_usable_public_model():
    """``Log`` (the base ``Resource.model_base`` names) lives in ``flame_hub.models`` like every
    other model: its relations resolve there, and its records validate and pickle."""
    import pickle

    assert models.Log.__module__ == "flame_hub.models"
    log = models.Log.model_validate({"id": "00000000-0000-0000-0000-000000000001",
                                     "analysis": {"id": "00000000-0000-0000-0000-000000000002"}})
    assert type(log.analysis) is models.Analysis
    assert pickle.loads(pickle.dumps(log)) == log
