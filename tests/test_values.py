"""Rows and frames (issue 15, item 3): ``values()``, ``values_list()``, ``to_pandas()``,
``to_polars()`` ask the Hub only for the named fields where it honours ``fields=`` (per era,
from the registry), pick them from whole records where it does not, and give typed columns."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
import uuid

import httpx
import pytest

import flame_hub
from flame_hub.testing import FakeHub

ERAS = ["0.14.0", "0.8.5"]


def _client(hub: FakeHub, cls=flame_hub.CoreClient, *, detect: bool = False, **kwargs):
    token_http = httpx.Client(transport=hub.transport())
    auth = flame_hub.auth.PasswordAuth("admin", "start123", base_url=hub.auth_url, client=token_http)
    url = {"core": hub.core_url, "auth": hub.auth_url}[kwargs.pop("service", "core")]
    version = {} if detect else {"hub_version": hub.version}
    return cls(base_url=url, auth=auth, transport=hub.transport(), **version, **kwargs)


def _lists(hub: FakeHub, path: str) -> list:
    return [r for r in hub.requests if r.method == "GET" and r.path == path]


@pytest.fixture(params=ERAS, ids=lambda v: f"hub-{v}")
def hub(request) -> FakeHub:
    hub = FakeHub(version=request.param)
    hub.seed("nodes", 60, hidden=lambda i: i % 3 == 0)
    hub.clear_requests()
    return hub


def test_values_asks_only_for_the_fields_and_returns_typed_dicts(hub):
    core = _client(hub)
    rows = core.nodes.filter(hidden=True).values("name", "hidden", "created_at").list()
    (request, *more) = _lists(hub, "/core/nodes")
    created = "createdAt" if hub.version == "0.14.0" else "created_at"
    assert request.query["fields"] == f"id,name,hidden,{created}"  # id: the walk de-duplicates by it
    assert request.query["filter[hidden]"] == "true"
    expected = sorted((r["name"], r[created]) for r in hub.records("nodes") if r["hidden"])
    assert sorted((r["name"], r["created_at"]) for r in rows) == [
        (name, dt.datetime.fromisoformat(at.replace("Z", "+00:00"))) for name, at in expected]
    assert all(set(r) == {"name", "hidden", "created_at"} and r["hidden"] is True for r in rows)
    assert isinstance(rows[0]["created_at"], dt.datetime)
    assert len(rows) == 20 and not more


def test_values_list_gives_tuples_in_field_order_and_flat_values(hub):
    core = _client(hub)
    pairs = core.nodes.values_list("id", "name").list()
    by_name = {r["name"]: r["id"] for r in hub.records("nodes")}
    assert sorted(pairs, key=lambda p: p[1]) == [(uuid.UUID(by_name[name]), name) for name in sorted(by_name)]
    names = list(core.nodes[:3].values_list("name", flat=True))
    assert names == [name for _, name in pairs[:3]]
    last = _lists(hub, "/core/nodes")[-1]
    assert last.query["page[limit]"] == "3" and last.query["fields"] == "id,name"


def test_values_without_fields_are_the_default_projection_without_fields_param(hub):
    core = _client(hub)
    rows = core.nodes.values().list()
    assert "fields" not in _lists(hub, "/core/nodes")[0].query
    assert len(rows) == 60
    assert {"id", "name", "hidden", "realm_id", "created_at", "updated_at"} <= set(rows[0])
    assert "registry" not in rows[0]  # relations are not fields


def test_a_resource_that_ignores_fields_is_picked_client_side():
    """Hub 0.8.5 lists realms whole whatever fields= says (registry: fields_param_honoured false)."""
    hub = FakeHub(version="0.8.5")
    auth_client = _client(hub, flame_hub.AuthClient, service="auth")
    assert auth_client.realms.values_list("name", flat=True).list() == ["master"]
    assert "fields" not in _lists(hub, "/auth/realms")[-1].query
    hub14 = FakeHub()
    auth14 = _client(hub14, flame_hub.AuthClient, service="auth")
    assert auth14.realms.values_list("name", flat=True).list() == ["master"]
    assert _lists(hub14, "/auth/realms")[-1].query["fields"] == "id,name"


@pytest.mark.parametrize("version", ERAS)
def test_a_hidden_field_is_asked_for(version):
    hub = FakeHub(version=version)
    auth_client = _client(hub, flame_hub.AuthClient, service="auth")
    rows = auth_client.users.values("name", "email").list()
    email = hub.records("users")[0]["email"]
    assert rows == [{"name": "admin", "email": email}]
    assert _lists(hub, "/auth/users")[-1].query["fields"] == "id,name,email"


def test_bad_fields_are_refused_before_any_list_request(hub):
    core = _client(hub)
    with pytest.raises(ValueError, match=r"nodes on Hub 0\.\d+ has no field 'colour'\. Fields: id, .*name"):
        core.nodes.values("name", "colour").list()
    with pytest.raises(ValueError, match="fields of related records"):
        core.nodes.values("realm__name")
    with pytest.raises(ValueError, match="exactly one field"):
        core.nodes.values_list("id", "name", flat=True)
    with pytest.raises(ValueError, match="named twice"):
        core.nodes.values("name", "name")
    assert hub.requests == []


def test_the_hub_era_is_known_before_the_fields_are_chosen():
    """A detecting client picks ``fields=`` for the era it finds (0.8.5: snake_case keys;
    ``run_status`` exists on 0.8.5 analyses only)."""
    hub = FakeHub(version="0.8.5")
    core = _client(hub, detect=True)
    rows = core.nodes.values("name", "created_at")
    assert "createdAt" in repr(rows)  # nothing sent yet: shown for the current Hub
    assert rows.list() == []
    assert [r.path for r in hub.requests if r.method == "GET"] == ["/core/", "/core/nodes"]
    assert _lists(hub, "/core/nodes")[0].query["fields"] == "id,name,created_at"
    assert core.analyses.values("run_status").list() == []


@pytest.mark.anyio
async def test_async_rows_are_the_same_rows(hub):
    async_core = _client(hub, flame_hub.AsyncCoreClient)
    rows = [r async for r in async_core.nodes.values("id", "name")]
    assert rows == _client(hub).nodes.values("id", "name").list()
    flat = await async_core.nodes.values_list("name", flat=True).list()
    assert flat == [r["name"] for r in rows]
    assert {r.query["fields"] for r in _lists(hub, "/core/nodes")} == {"id,name"}
    await async_core.aclose()


def _needs(package: str):
    return pytest.mark.skipif(importlib.util.find_spec(package) is None,
                              reason=f"{package} is not installed (pip install 'flame-hub-client[{package}]')")


@_needs("pandas")
def test_to_pandas_has_typed_columns(hub):
    import pandas as pd

    core = _client(hub)
    df = core.nodes.to_pandas("id", "name", "hidden", "type", "registry_id", "created_at")
    df = df.sort_values("name", ignore_index=True)
    assert list(df.columns) == ["id", "name", "hidden", "type", "registry_id", "created_at"]
    assert len(df) == 60
    assert str(df["id"].dtype) == "string" and str(df["name"].dtype) == "string"
    assert str(df["hidden"].dtype) == "boolean" and str(df["type"].dtype) == "string"
    assert isinstance(df["created_at"].dtype, pd.DatetimeTZDtype) and str(df["created_at"].dtype.tz) == "UTC"
    records = sorted(hub.records("nodes"), key=lambda r: r["name"])
    assert df["id"].tolist() == [r["id"] for r in records]
    assert df["type"].tolist() == ["default"] * 60  # the enum's value, not "NodeType.DEFAULT"
    assert df["registry_id"].isna().all()
    created = "createdAt" if hub.version == "0.14.0" else "created_at"
    assert df["created_at"][0] == pd.Timestamp(records[0][created])
    assert _lists(hub, "/core/nodes")[0].query["fields"].startswith("id,name,hidden,type,registry")


@_needs("pandas")
@pytest.mark.anyio
async def test_async_to_pandas_and_empty_frames_keep_their_columns():
    hub = FakeHub()
    async_core = _client(hub, flame_hub.AsyncCoreClient)
    df = await async_core.nodes.to_pandas("name", "online", "updated_at")
    assert df.empty and list(df.columns) == ["name", "online", "updated_at"]
    assert [str(t) for t in df.dtypes[:2]] == ["string", "boolean"] and "UTC" in str(df.dtypes.iloc[2])
    await async_core.aclose()


@_needs("polars")
def test_to_polars_has_typed_columns(hub):
    import polars as pl

    core = _client(hub)
    df = core.nodes.to_polars("id", "name", "hidden", "created_at").sort("name")
    assert df.schema == {"id": pl.String, "name": pl.String, "hidden": pl.Boolean,
                         "created_at": pl.Datetime("us", "UTC")}
    assert df.height == 60 and df["hidden"].sum() == 20
    assert df["id"].to_list() == [r["id"] for r in sorted(hub.records("nodes"), key=lambda r: r["name"])]


@_needs("polars")
@pytest.mark.anyio
async def test_async_to_polars():
    import polars as pl

    hub = FakeHub()
    hub.seed("nodes", 3)
    async_core = _client(hub, flame_hub.AsyncCoreClient)
    df = await async_core.nodes.sort("name").to_polars("name", "online")
    assert df.to_dict(as_series=False) == {"name": ["node-0", "node-1", "node-2"], "online": [False] * 3}
    assert df.schema == {"name": pl.String, "online": pl.Boolean}
    await async_core.aclose()


@pytest.mark.parametrize("library", ["pandas", "polars"])
def test_a_missing_dataframe_library_names_the_extra_before_sending(library, monkeypatch):
    monkeypatch.setitem(sys.modules, library, None)  # what an environment without it imports
    hub = FakeHub()
    core = _client(hub)
    with pytest.raises(ModuleNotFoundError) as info:
        getattr(core.nodes, f"to_{library}")()
    assert str(info.value) == f"to_{library}() needs {library}: pip install 'flame-hub-client[{library}]'"
    assert hub.requests == []
