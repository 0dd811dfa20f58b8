"""The packaged resource catalog matches the recorded one and the registry reads it correctly."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from _shared import HUB_SPEC

from flame_hub.dialects import CURRENT, LEGACY, TRANSITIONAL, dialect_for_version
from flame_hub.resources import CURRENT_ERA, LEGACY_ERA, REGISTRY, get_resource, resources_of

ROOT = Path(__file__).resolve().parents[1]
SOURCE = HUB_SPEC / "resources.json"


def test_packaged_catalog_is_a_fresh_build_of_the_recorded_one():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import build_catalog
    finally:
        sys.path.pop(0)
    committed = (ROOT / "flame_hub" / "_catalog.json").read_text()
    assert committed == build_catalog.render(SOURCE), "run: python tools/build_catalog.py"


def test_allow_lists_match_recorded_meta_schema():
    schemas = json.loads((HUB_SPEC / "list-schemas.json").read_text())
    checked = 0
    for res in REGISTRY.values():
        spec = res.era(CURRENT_ERA)
        schema = schemas.get(f"{res.service}/{res.name}", {}).get("schema")
        if not spec.available or schema is None:
            continue
        assert list(spec.filters) == list(schema["filters"]["allowed"] or ()), res.name
        assert list(spec.sorts) == list(schema["sorts"]["allowed"] or ()), res.name
        checked += 1
    assert checked >= 20


def test_python_names_are_derived_from_hub_names():
    assert get_resource("analysis-nodes").attr == "analysis_nodes"
    assert get_resource("analyses").singular == "analysis"
    assert get_resource("registries").model_name == "Registry"
    assert get_resource("policies").singular == "policy"
    assert get_resource("bucket_file") is get_resource("bucket-files")
    with pytest.raises(KeyError, match="unknown Hub resource 'nodez'"):
        get_resource("nodez")


def test_eras_differ_where_the_hubs_differ():
    nodes = get_resource("nodes")
    assert "realmId" in nodes.era(CURRENT_ERA).filters
    assert "realm_id" in nodes.era(LEGACY_ERA).filters
    assert not get_resource("robots").available(CURRENT_ERA)
    assert get_resource("robots").available(LEGACY_ERA)
    assert {r.name for r in resources_of("storage")} == {"buckets", "bucket-files"}
    # nodes cannot be sorted by id on 0.14 (list-schemas.json): the tie-break must know it
    assert "id" not in nodes.era(CURRENT_ERA).sorts


@pytest.mark.parametrize(
    "version, dialect",
    [("0.14.0", CURRENT), ("v0.13.0", CURRENT), ("0.12.7", TRANSITIONAL), ("0.12.3", TRANSITIONAL),
     ("0.12.2", LEGACY), ("0.8.5", LEGACY)],
)
def test_dialect_for_version(version, dialect):
    assert dialect_for_version(version) is dialect


def test_dialect_rejects_garbage_version():
    with pytest.raises(ValueError, match="not a Hub version"):
        dialect_for_version("latest")


def test_dialect_unwraps_records_per_era():
    assert CURRENT.unwrap_record({"data": {"id": 1}, "meta": {}}) == {"id": 1}
    assert LEGACY.unwrap_record({"id": 1, "data": "x"}) == {"id": 1, "data": "x"}
    assert CURRENT.wire_key("realm_id") == "realmId" and LEGACY.wire_key("realm_id") == "realm_id"
