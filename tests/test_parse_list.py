"""``parse_list``: a list answer validated in one pass from the raw bytes (``page_adapter``) must
give exactly what the tolerant path (``unwrap_list`` + ``list_adapter``) gives, on every recorded
list answer of both eras, and fall back to it for every body the fast path cannot take."""

from __future__ import annotations

import json

import httpx
import pydantic
import pytest
from _shared import ADDITIONS, EXAMPLES, LEGACY_ADDITIONS, LEGACY_EXAMPLES

import flame_hub.clients._helpers as helpers
from flame_hub._responses import unwrap_list
from flame_hub.errors import HubError
from flame_hub.models import list_adapter, model_for, page_adapter
from flame_hub.resources import get_resource

NODE = {"id": "6454d708-a2c8-481d-805b-7b65165e3109", "name": "n1", "realmId": None,
        "createdAt": "2026-11-29T11:45:14.130Z", "somethingNew": {"a": [1, 2]}}


def _response(body: object, raw: bytes | None = None) -> httpx.Response:
    content = raw if raw is not None else json.dumps(body).encode()
    return httpx.Response(200, content=content, request=httpx.Request("GET", "http://hub/core/nodes"))


def _recorded_lists() -> list:
    out = []
    for folder in (EXAMPLES, ADDITIONS, LEGACY_EXAMPLES, LEGACY_ADDITIONS):
        for path in sorted(folder.glob("*.json")):
            ex = json.loads(path.read_text())
            body, req = ex["response"]["body"], ex["request"]
            segments = req["path"].strip("/").split("/")
            if (ex["response"]["status"] != 200 or req["method"] != "GET" or len(segments) != 1
                    or not isinstance(body, dict) or not isinstance(body.get("data"), list)):
                continue
            try:
                res = get_resource(segments[0])
            except KeyError:
                continue
            out.append(pytest.param(res.name, body, id=f"{folder.parent.name}-{folder.name}-{path.stem}"))
    return out


def _slow(name: str, response: httpx.Response) -> tuple[list, dict]:
    data, meta = unwrap_list(response)
    return list_adapter(model_for(name)).validate_python(data), meta


def _same(got: tuple[list, dict], want: tuple[list, dict]) -> None:
    (items, meta), (want_items, want_meta) = got, want
    assert meta == want_meta
    assert [type(i) for i in items] == [type(i) for i in want_items]
    assert [i.model_dump() for i in items] == [i.model_dump() for i in want_items]
    assert [i.model_extra for i in items] == [i.model_extra for i in want_items]


def test_recorded_list_answers_are_found():
    params = _recorded_lists()
    assert len(params) > 20
    for era in ("0.14.0", "0.8.5"):
        for kind in ("examples", "additions"):
            assert any(p.id.startswith(f"{era}-{kind}-") for p in params), (era, kind)


@pytest.mark.parametrize(("name", "body"), _recorded_lists())
def test_one_pass_equals_the_tolerant_path_on_recorded_lists(name, body, monkeypatch):
    response = _response(body)
    want = _slow(name, response)
    monkeypatch.setattr(helpers, "unwrap_list", _no_fallback)
    _same(helpers.parse_list(get_resource(name), response), want)


def _no_fallback(response: httpx.Response) -> None:
    raise AssertionError("a well-formed list answer took the slow path")


def test_fast_path_keeps_both_spellings_unknown_keys_and_ignores_envelope_extras(monkeypatch):
    monkeypatch.setattr(helpers, "unwrap_list", _no_fallback)
    snake = {"id": NODE["id"], "realm_id": NODE["id"], "created_at": "free text, not a date"}
    body = {"data": [NODE, snake], "meta": {"total": 2, "limit": 50, "offset": 0}, "links": {}}
    items, meta = helpers.parse_list(get_resource("nodes"), _response(body))
    assert meta == {"total": 2, "limit": 50, "offset": 0}
    assert items[0].model_extra == {"somethingNew": {"a": [1, 2]}}
    assert str(items[1].realm_id) == NODE["id"] and items[1].created_at == "free text, not a date"
    assert items[0].created_at.year == 2026


@pytest.mark.parametrize("meta", [None, [], "x"])
def test_meta_that_is_not_an_object_becomes_empty(meta, monkeypatch):
    monkeypatch.setattr(helpers, "unwrap_list", _no_fallback)
    body = {"data": [NODE]} if meta is None else {"data": [NODE], "meta": meta}
    assert helpers.parse_list(get_resource("nodes"), _response(body))[1] == {}


def test_a_bare_list_is_tolerated_through_the_fallback():
    items, meta = helpers.parse_list(get_resource("nodes"), _response([NODE]))
    assert meta == {} and items[0].name == "n1"


@pytest.mark.parametrize("raw", [b"", b"  ", b"<html>", b'{"data": {"id": 1}}', b'{"meta": {}}'])
def test_bodies_that_are_no_list_raise_hub_error(raw):
    with pytest.raises(HubError):
        helpers.parse_list(get_resource("nodes"), _response(None, raw))


def test_an_invalid_record_raises_the_same_validation_error():
    response = _response({"data": [{"id": NODE["id"], "name": 5}], "meta": {}})
    with pytest.raises(pydantic.ValidationError) as fast:
        helpers.parse_list(get_resource("nodes"), response)
    with pytest.raises(pydantic.ValidationError) as slow:
        _slow("nodes", response)
    assert fast.value.errors() == slow.value.errors()


def test_page_adapter_is_cached_per_model():
    assert page_adapter(model_for("nodes")) is page_adapter(model_for("nodes"))
    assert page_adapter(model_for("nodes")) is not page_adapter(model_for("projects"))
